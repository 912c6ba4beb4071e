import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DateTime } from 'luxon';
import {
  DOSSIER_ID_PATTERN,
  DUE_DATE_MAX,
  DUE_DATE_MIN,
  ID_MAX_LENGTH,
  OWNER_NAME_MAX_LENGTH,
  TITLE_MAX_LENGTH,
} from '../../domain/limits.js';
import { wireNotification } from '../../server/protocol/messages.js';
import {
  httpRequest,
  openSocket,
  type ReplyJson,
  startServerHarness,
  type ServerHarness,
  type TestSocket,
} from '../support/notify-server.js';
import { startReminderEngine, type ReminderEngine } from '../support/reminder-engine.js';
import { createDevServerEnv } from '../support/temporal.js';
import { waitFor } from '../support/wait.js';

/**
 * The REST API of a real server: a user's own notifications (keyset pages, unread filter and
 * count, mark read), the OpenAPI document, health, and the dossier routes driven end to end
 * through a real Temporal dev server and worker, with the owner's socket receiving the result.
 */

/** Without Temporal: user routes, OpenAPI, degraded health. */
let harness: ServerHarness;
/** A Temporal dev server and a real worker; `engineServer` shares the worker's database. */
let env: TestWorkflowEnvironment;
let engine: ReminderEngine;
let engineServer: ServerHarness;

/** GET /healthz on `harness`, started while the dev server starts: it waits out its Temporal timeout. */
let degradedHealth: Promise<{ elapsedMs: number; reply: Awaited<ReturnType<typeof httpRequest>> }>;

before(async () => {
  const devServer = createDevServerEnv();
  harness = await startServerHarness();
  const started = Date.now();
  degradedHealth = httpRequest(`${harness.internalUrl}/healthz`).then((reply) => ({
    elapsedMs: Date.now() - started,
    reply,
  }));
  env = await devServer;
  engine = await startReminderEngine(env);
  engineServer = await startServerHarness({
    db: engine.db,
    temporal: { client: engine.client, taskQueue: engine.taskQueue },
  });
});
after(async () => {
  await engineServer?.close(); // first: it shares the engine's database
  await engine?.close();
  await env?.teardown();
  await harness?.close();
});

interface Notification {
  id: string;
  userId: string;
  type: string;
  kind: string;
  dossierId: string | null;
  readAt: string | null;
}
interface Page {
  items: Notification[];
  nextCursor: string | null;
}

const socketFor = async (target: ServerHarness, user: string): Promise<TestSocket> => {
  const socket = await openSocket(`${target.wsUrl}/api/v1/ws/${await target.token(user)}`);
  await socket.waitFor('the unread count', (messages) =>
    messages.some((message) => message.type === 'unread_count'),
  );
  return socket;
};
const unreadCounts = (socket: TestSocket): number[] =>
  socket.messages
    .filter((message) => message.type === 'unread_count')
    .map((message) => message.count as number);

describe('user routes', () => {
  let token: string;
  let ids: string[]; // alice's, oldest first
  let bobId: string;
  const api = <T = ReplyJson>(path: string, options: Parameters<typeof httpRequest>[1] = {}) =>
    httpRequest<T>(`${harness.url}/api/v1/users/me/notifications${path}`, { token, ...options });

  before(async () => {
    token = await harness.token('alice');
    ids = [];
    for (let index = 0; index < 5; index += 1) {
      ids.push(await harness.notify('alice', `Alice ${index}`));
      if (index === 2) bobId = await harness.notify('bob');
    }
  });

  it('lists my notifications newest first, in keyset pages of 2, 2, 1 without overlap', async () => {
    const pages: Page[] = [];
    let cursor: string | null | undefined;
    do {
      const reply = await api<Page>(`?limit=2${cursor ? `&before=${cursor}` : ''}`);
      assert.equal(reply.status, 200);
      const page = reply.json;
      pages.push(page);
      cursor = page.nextCursor;
    } while (cursor && pages.length < 10);

    assert.deepEqual(
      pages.map((page) => page.items.length),
      [2, 2, 1],
    );
    assert.equal(pages[2]!.nextCursor, null);
    assert.equal(pages[0]!.nextCursor, pages[0]!.items[1]!.id);
    const listed = pages.flatMap((page) => page.items.map((item) => item.id));
    assert.deepEqual(listed, [...ids].reverse(), 'newest first, every one once');
    assert.ok(!listed.includes(bobId));
    for (const item of pages.flatMap((page) => page.items)) {
      wireNotification.parse(item); // the documented wire format
      assert.equal(item.userId, 'alice');
      assert.equal(item.readAt, null);
    }
    const all = (await api<Page>('')).json;
    assert.deepEqual(
      all.items.map((item) => item.id),
      [...ids].reverse(),
    );
    assert.equal(all.nextCursor, null);
  });

  it("marks read by ids, ignoring another user's id; filters unread; counts unread", async () => {
    assert.deepEqual((await api('/unread-count')).json, { count: 5 });
    const marked = await api('/read', { body: { ids: [ids[1], ids[3], bobId] } });
    assert.equal(marked.status, 200);
    assert.deepEqual(marked.json, { updated: 2, unreadCount: 3 });
    const again = await api('/read', { body: { ids: [ids[1]] } });
    assert.deepEqual(again.json, { updated: 0, unreadCount: 3 }, 'marking twice changes nothing');

    const [bobRow] = await harness.db.query<{ read_at: Date | null }>(
      'select read_at from notifications where id = $1',
      [bobId],
    );
    assert.equal(bobRow!.read_at, null, "bob's notification is not marked");
    const bob = await httpRequest(`${harness.url}/api/v1/users/bob/notifications/unread-count`, {
      token: await harness.token('bob'),
    });
    assert.deepEqual(bob.json, { count: 1 });

    assert.deepEqual((await api('/unread-count')).json, { count: 3 });
    const unread = (await api<Page>('?unread=true')).json;
    assert.deepEqual(
      unread.items.map((item) => item.id),
      [ids[4], ids[2], ids[0]],
    );
    const unreadPage = (await api<Page>('?unread=true&limit=2')).json;
    assert.deepEqual(
      unreadPage.items.map((item) => item.id),
      [ids[4], ids[2]],
    );
    const rest = (await api<Page>(`?unread=true&before=${unreadPage.nextCursor}`)).json;
    assert.deepEqual(
      rest.items.map((item) => item.id),
      [ids[0]],
    );
    const everything = (await api<Page>('?unread=false')).json;
    assert.equal(everything.items.length, 5);
    for (const item of everything.items) {
      assert.equal(item.readAt !== null, item.id === ids[1] || item.id === ids[3], item.id);
    }
  });

  it('read-all marks the rest', async () => {
    const reply = await api('/read-all', { method: 'POST' });
    assert.equal(reply.status, 200);
    assert.deepEqual(reply.json, { updated: 3, unreadCount: 0 });
    assert.deepEqual((await api('/unread-count')).json, { count: 0 });
    assert.deepEqual((await api('?unread=true')).json, { items: [], nextCursor: null });
    const bob = await httpRequest(`${harness.url}/api/v1/users/bob/notifications/unread-count`, {
      token: await harness.token('bob'),
    });
    assert.deepEqual(bob.json, { count: 1 }, "read-all leaves bob's alone");
  });

  it('a socket gets its unread_count after mark_read and mark_all_read over WebSocket', async () => {
    const carolIds = [
      await harness.notify('carol'),
      await harness.notify('carol'),
      await harness.notify('carol'),
    ];
    const socket = await socketFor(harness, 'carol');
    assert.deepEqual(unreadCounts(socket), [3]);

    socket.send({ type: 'mark_read', ids: [carolIds[0]] });
    await socket.waitFor('the count after mark_read', () => unreadCounts(socket).length === 2);
    assert.deepEqual(unreadCounts(socket), [3, 2]);
    const carolToken = await harness.token('carol');
    const count = await httpRequest(`${harness.url}/api/v1/users/me/notifications/unread-count`, {
      token: carolToken,
    });
    assert.deepEqual(count.json, { count: 2 });

    socket.send({ type: 'mark_all_read' });
    await socket.waitFor('the count after mark_all_read', () => unreadCounts(socket).length === 3);
    assert.deepEqual(unreadCounts(socket), [3, 2, 0]);
    const after = await httpRequest(`${harness.url}/api/v1/users/me/notifications/unread-count`, {
      token: carolToken,
    });
    assert.deepEqual(after.json, { count: 0 });
    assert.ok(!socket.messages.some((message) => message.type === 'error'));
    socket.ws.close();
  });
});

describe('OpenAPI document', () => {
  type Operation = {
    requestBody?: {
      content: Record<string, { schema: { properties?: Record<string, unknown>; required?: string[] } }>;
    };
    responses: Record<string, unknown>;
  };
  let document: {
    openapi: string;
    paths: Record<string, Record<string, Operation>>;
    components: { schemas: Record<string, { oneOf?: unknown[]; anyOf?: unknown[] }> };
  };

  before(async () => {
    const reply = await httpRequest<typeof document>(`${harness.url}/api/v1/openapi.json`);
    assert.equal(reply.status, 200);
    assert.match(reply.contentType, /application\/json/);
    document = reply.json;
  });

  it('is OpenAPI 3.1.0 with the routes, request schemas and socket messages', () => {
    assert.equal(document.openapi, '3.1.0');
    const create = document.paths['/api/v1/dossiers']?.post;
    const schema = create?.requestBody?.content['application/json']?.schema;
    assert.ok(schema?.properties);
    for (const field of ['id', 'title', 'ownerId', 'dueDate', 'dueAt', 'urgent', 'owner']) {
      assert.ok(field in schema.properties, field);
    }
    assert.deepEqual([...(schema.required ?? [])].sort(), ['id', 'ownerId', 'title']);
    const read = document.paths['/api/v1/users/{userId}/notifications/read']?.post;
    assert.ok(read?.requestBody?.content['application/json']?.schema.properties?.ids);
    for (const name of ['ClientMessage', 'ServerMessage']) {
      const variants = document.components.schemas[name]?.oneOf ?? document.components.schemas[name]?.anyOf;
      assert.ok(Array.isArray(variants), name);
    }
    const clientTypes = JSON.stringify(document.components.schemas.ClientMessage);
    for (const type of ['resume', 'mark_read', 'mark_all_read', 'refresh_token'])
      assert.ok(clientTypes.includes(`"${type}"`));
    const serverTypes = JSON.stringify(document.components.schemas.ServerMessage);
    for (const type of ['notification', 'unread_count', 'resumed', 'token_expiring', 'error'])
      assert.ok(serverTypes.includes(`"${type}"`));
  });

  it("documents the input limits, the plan route's 409, and only patterns that compile", () => {
    const create = document.paths['/api/v1/dossiers']?.post;
    const properties = create?.requestBody?.content['application/json']?.schema.properties as Record<
      string,
      {
        pattern?: string;
        maxLength?: number;
        description?: string;
        properties?: Record<string, { maxLength?: number }>;
      }
    >;
    assert.equal(properties.id?.pattern, DOSSIER_ID_PATTERN.source);
    assert.equal(properties.title?.maxLength, TITLE_MAX_LENGTH);
    assert.equal(properties.ownerId?.maxLength, ID_MAX_LENGTH);
    assert.equal(properties.eventId?.maxLength, ID_MAX_LENGTH);
    assert.equal(properties.owner?.properties?.name?.maxLength, OWNER_NAME_MAX_LENGTH);
    assert.match(properties.dueDate?.description ?? '', new RegExp(`${DUE_DATE_MIN}.*${DUE_DATE_MAX}`));
    assert.ok(document.paths['/api/v1/dossiers/{id}/plan']?.get?.responses['409'], 'the 409 is documented');
    // JSON Schema patterns are ECMA-262 regular expressions: each must compile.
    const patterns = [...JSON.stringify(document).matchAll(/"pattern":("(?:[^"\\]|\\.)*")/g)].map(
      (match) => JSON.parse(match[1]!) as string,
    );
    assert.ok(patterns.length > 0);
    for (const pattern of patterns) assert.doesNotThrow(() => new RegExp(pattern, 'u'), pattern);
  });

  it("documents the user profile route: the owner profile's fields plus eventId, nothing else, 202", () => {
    const operation = document.paths['/api/v1/users/{userId}/profile']?.put;
    const schema = operation?.requestBody?.content['application/json']?.schema as
      { properties?: Record<string, unknown>; additionalProperties?: unknown } | undefined;
    assert.deepEqual(Object.keys(schema?.properties ?? {}).sort(), [
      'businessCalendar',
      'eventId',
      'locale',
      'name',
      'reminderTime',
      'timezone',
    ]);
    assert.equal(schema?.additionalProperties, false);
    for (const status of ['202', '400', '401', '403']) assert.ok(operation?.responses[status], status);
  });

  it('documents only routes that exist: each answers something other than 404', async () => {
    const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => [method.toUpperCase(), path] as const),
    );
    assert.ok(operations.length >= 14);
    for (const [method, path] of operations) {
      const concrete = path.replace('{userId}', 'me').replace('{id}', 'D-1');
      // On the server with Temporal, whose health answers at once.
      const reply = await httpRequest(`${engineServer.url}${concrete}`, { method });
      assert.notEqual(reply.status, 404, `${method} ${path}`);
      assert.equal(reply.status, 401, `${method} ${path}`);
    }
  });
});

describe('health', () => {
  it('is 503 with checks.temporal false, quickly, when Temporal is unreachable', async () => {
    const { elapsedMs, reply } = await degradedHealth;
    assert.ok(elapsedMs < 5000, `answered in ${elapsedMs} ms`);
    assert.equal(reply.status, 503);
    assert.deepEqual(reply.json, {
      status: 'degraded',
      checks: { postgres: true, temporal: false, listen: true },
    });
  });

  it('answers on the internal port only: the public port serves neither /healthz nor /metrics', async () => {
    for (const path of ['/healthz', '/metrics']) {
      assert.equal((await httpRequest(`${engineServer.url}${path}`)).status, 404, `public ${path}`);
      assert.equal((await httpRequest(`${engineServer.internalUrl}${path}`)).status, 200, `internal ${path}`);
    }
    assert.match(
      (await httpRequest(`${engineServer.internalUrl}/metrics`)).text,
      /^normx_notify_ws_connections /m,
    );
    // Nothing else is served there: the API and the bell page stay on the public port.
    assert.equal((await httpRequest(`${engineServer.internalUrl}/api/v1/openapi.json`)).status, 404);
  });

  it('is 200 ok with a real Temporal dev server', async () => {
    const reply = await httpRequest(`${engineServer.internalUrl}/healthz`);
    assert.equal(reply.status, 200);
    assert.deepEqual(reply.json, { status: 'ok', checks: { postgres: true, temporal: true, listen: true } });
  });
});

describe('dossier routes (service token, Temporal dev server, real worker)', () => {
  let service: string;
  let alice: TestSocket;
  let bob: TestSocket;
  const parisDate = (days: number): string =>
    DateTime.now().setZone('Europe/Paris').plus({ days }).toISODate()!;
  const call = <T = ReplyJson>(path: string, options: Parameters<typeof httpRequest>[1] = {}) =>
    httpRequest<T>(`${engineServer.url}/api/v1/dossiers${path}`, { token: service, ...options });
  const kinds = (socket: TestSocket): string[] =>
    socket.messages
      .filter((message) => message.type === 'notification')
      .map((message) => (message.notification as Notification).kind);
  const notificationOfKind = (kind: string) =>
    alice.waitFor(
      `alice's "${kind}" notification`,
      (messages) =>
        messages
          .filter((message) => message.type === 'notification')
          .map((message) => message.notification as Notification)
          .find((notification) => notification.kind === kind),
      10_000,
    );
  type Plan = {
    dossier: { id: string; dueDate?: string; status: string };
    pending: Array<{ kind: string }>;
  };
  const planWhen = (description: string, ready: (plan: Plan) => boolean) =>
    waitFor(
      description,
      async () => {
        const reply = await call<Plan>('/D-1/plan');
        return reply.status === 200 && ready(reply.json) && reply.json;
      },
      { timeoutMs: 10_000, intervalMs: 100 },
    );

  before(async () => {
    service = await engineServer.token('normx-backend', { service: true });
    alice = await socketFor(engineServer, 'alice');
    bob = await socketFor(engineServer, 'bob');
  });
  after(() => {
    alice?.ws.close();
    bob?.ws.close();
  });

  it('creates a dossier: 202, the owner is notified live, and the plan has its 5 reminders', async () => {
    const dueDate = parisDate(10);
    const reply = await call('', { body: { id: 'D-1', title: 'Bilan', ownerId: 'alice', dueDate } });
    assert.equal(reply.status, 202);
    assert.equal(reply.json.workflowId, 'dossier:D-1');
    assert.match(String(reply.json.eventId), /^\S+$/);

    const created = await notificationOfKind('created');
    assert.equal(created.type, 'dossier_update');
    assert.equal(created.dossierId, 'D-1');
    assert.equal(created.userId, 'alice');

    const plan = await planWhen(
      'a plan with 5 pending reminders',
      (candidate) => candidate.pending.length === 5,
    );
    assert.equal(plan.dossier.id, 'D-1');
    assert.equal(plan.dossier.dueDate, dueDate);
    assert.equal(plan.dossier.status, 'open');
    assert.deepEqual(plan.pending.map((reminder) => reminder.kind).sort(), [
      'j-0',
      'j-1',
      'j-7',
      'overdue',
      'overdue_critical',
    ]);
  });

  it('reschedules: 202, the owner gets "rescheduled", the plan follows the new date', async () => {
    const dueDate = parisDate(20);
    const reply = await call('/D-1/reschedule', { body: { dueDate } });
    assert.equal(reply.status, 202);
    assert.equal(reply.json.workflowId, 'dossier:D-1');
    const rescheduled = await notificationOfKind('rescheduled');
    assert.equal(rescheduled.dossierId, 'D-1');
    const plan = await planWhen(
      'the plan at the new date',
      (candidate) => candidate.dossier.dueDate === dueDate,
    );
    assert.equal(plan.pending.length, 5);
  });

  it('completes: 202, the owner gets "completed", nothing is pending any more', async () => {
    const reply = await call('/D-1/complete', { method: 'POST' });
    assert.equal(reply.status, 202);
    const completed = await notificationOfKind('completed');
    assert.equal(completed.dossierId, 'D-1');
    await planWhen(
      'a done dossier with nothing pending',
      (plan) => plan.dossier.status === 'done' && plan.pending.length === 0,
    );
    assert.deepEqual(kinds(alice), ['created', 'rescheduled', 'completed']);
    // Bob got none of it: a notification of his own is the first he sees.
    const marker = await engineServer.notify('bob');
    await bob.waitFor("bob's own notification", () => bob.ids().includes(marker));
    assert.deepEqual(bob.ids(), [marker]);
  });

  it('answers the plan of a dossier asked for right after its create: 200 with the plan, every time', async () => {
    const dueDate = parisDate(30);
    for (let index = 0; index < 5; index += 1) {
      const id = `D-now-${index}`;
      const created = await call('', { body: { id, title: `Bilan ${index}`, ownerId: 'carol', dueDate } });
      assert.equal(created.status, 202);
      // No wait: the workflow may not have loaded the dossier yet; the route waits for it.
      const reply = await call<Plan>(`/${id}/plan`);
      assert.equal(reply.status, 200, `${id}: ${reply.text}`);
      assert.equal(reply.json.dossier.id, id);
      assert.equal(reply.json.dossier.dueDate, dueDate);
      assert.equal(reply.json.pending.length, 5);
    }
  });

  it('a dossier whose create has not come: 409 dossier_not_ready after the wait; once its workflow ended, 404', async () => {
    // An event for an id never created starts a workflow that waits for the create.
    const urgent = await call('/D-ghost/urgent', { body: { urgent: true } });
    assert.equal(urgent.status, 202);
    const started = Date.now();
    const waiting = await call('/D-ghost/plan');
    assert.equal(waiting.status, 409, waiting.text);
    assert.equal(waiting.json.error.code, 'dossier_not_ready');
    assert.ok(Date.now() - started >= 4_000, 'it waited for the load first');

    await engine.client.workflow.getHandle('dossier:D-ghost').terminate('test: a run that never loaded');
    const ended = await call('/D-ghost/plan');
    assert.equal(ended.status, 404, ended.text);
    assert.equal(ended.json.error.code, 'not_found');
  });

  it('refuses a bad date (400 naming dueDate), two deadlines (400), and an unknown dossier (404)', async () => {
    const badDate = await call('/D-1', {
      method: 'PUT',
      body: { title: 'x', ownerId: 'alice', dueDate: '2027-02-30' },
    });
    assert.equal(badDate.status, 400);
    assert.equal(badDate.json.error.code, 'validation_failed');
    assert.deepEqual(
      badDate.json.error.issues?.map((issue: { field: string }) => issue.field),
      ['dueDate'],
    );

    const both = await call('', {
      body: {
        id: 'D-2',
        title: 'Bilan',
        ownerId: 'alice',
        dueDate: parisDate(5),
        dueAt: '2030-01-01T10:00:00Z',
      },
    });
    assert.equal(both.status, 400);
    assert.equal(both.json.error.code, 'validation_failed');
    assert.deepEqual(
      both.json.error.issues?.map((issue: { field: string }) => issue.field),
      ['dueDate'],
    );

    const unknown = await call('/unknown-id/plan');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json.error.code, 'not_found');

    const badId = await call('/bad%20id/plan');
    assert.equal(badId.status, 400);

    // Nothing was started for the refused dossier D-2.
    const missing = await call('/D-2/plan');
    assert.equal(missing.status, 404);
  });
});

describe('onboarding route POST /api/v1/dossiers/bulk (service token, Temporal dev server, real worker)', () => {
  let service: string;
  const bulk = (body: unknown, token = service) =>
    httpRequest(`${engineServer.url}/api/v1/dossiers/bulk`, { token, body });
  const dueDate = DateTime.now().setZone('Europe/Paris').plus({ days: 30 }).toISODate()!;
  const batchOf = (prefix: string, count: number) =>
    Array.from({ length: count }, (_, index) => ({
      id: `${prefix}-${index}`,
      title: `Dossier ${index}`,
      ownerId: `owner-${index % 5}`,
      dueDate,
    }));
  const createdRows = (prefix: string) =>
    engineServer.db.query<{ dossier_id: string; n: number }>(
      `select dossier_id, count(*)::int as n from notifications
        where kind = 'created' and dossier_id like $1 group by dossier_id`,
      [`${prefix}-%`],
    );

  before(async () => {
    service = await engineServer.token('normx-backend', { service: true });
  });

  it('202 with one result per dossier in order; each dossier stored once, also when the batch is sent again', async () => {
    const batch = batchOf('B1', 60);
    const reply = await bulk({ dossiers: batch });
    assert.equal(reply.status, 202, reply.text);
    assert.equal(reply.json.sent, 60);
    const results = reply.json.results as Array<{ id: string; sent: boolean; eventId: string }>;
    assert.deepEqual(
      results.map((result) => [result.id, result.sent]),
      batch.map((dossier) => [dossier.id, true]),
    );
    await waitFor('60 "created" rows', async () => (await createdRows('B1')).length === 60, {
      timeoutMs: 60_000,
    });
    // The backend retries the whole batch with the event ids it got: nothing is stored twice.
    const again = await bulk({
      dossiers: batch.map((dossier, index) => ({ ...dossier, eventId: results[index]!.eventId })),
    });
    assert.equal(again.status, 202, again.text);
    const plan = await waitFor('the last dossier planned', async () => {
      const reply = await httpRequest<{ pending: unknown[] }>(
        `${engineServer.url}/api/v1/dossiers/B1-59/plan`,
        { token: service },
      );
      return reply.status === 200 && reply.json;
    });
    assert.equal(plan.pending.length, 5);
    const rows = await createdRows('B1');
    assert.equal(rows.length, 60);
    assert.ok(
      rows.every((row) => row.n === 1),
      'one "created" per dossier',
    );
  });

  it('400 naming dossiers.<index>.<field> for a bad item or a repeated id, and nothing is sent', async () => {
    const batch = batchOf('B2', 5);
    const badDate = await bulk({
      dossiers: batch.map((d, i) => (i === 3 ? { ...d, dueDate: '2027-02-30' } : d)),
    });
    assert.equal(badDate.status, 400, badDate.text);
    assert.equal(badDate.json.error.code, 'validation_failed');
    assert.deepEqual(
      badDate.json.error.issues?.map((issue: { field: string }) => issue.field),
      ['dossiers.3.dueDate'],
    );
    const repeated = await bulk({ dossiers: [...batch, batch[1]] });
    assert.equal(repeated.status, 400, repeated.text);
    assert.deepEqual(
      repeated.json.error.issues?.map((issue: { field: string }) => issue.field),
      ['dossiers.5.id'],
    );
    const missing = await httpRequest(`${engineServer.url}/api/v1/dossiers/B2-0/plan`, { token: service });
    assert.equal(missing.status, 404, 'the valid dossiers of a refused batch were not sent');
  });

  it('400 for an empty batch or more than 1,000; 1,000 dossiers at the field limits fit; 413 past 8 MiB; 401 for an anonymous body before it is read; 403 for a user token', async () => {
    assert.equal((await bulk({ dossiers: [] })).status, 400);
    const tooMany = await bulk({ dossiers: batchOf('B3', 1001) });
    assert.equal(tooMany.status, 400, tooMany.text);
    assert.deepEqual(
      tooMany.json.error.issues?.map((issue: { field: string }) => issue.field),
      ['dossiers'],
    );
    // 1,000 titles of 500 "é" sent as \u00e9 escapes (~3 MB): the body fits, the validation
    // (one bad date at the end) answers, and nothing is sent.
    const escaped = JSON.stringify({
      dossiers: batchOf('B6', 1000).map((d, index) => ({
        ...d,
        title: 'é'.repeat(500),
        ...(index === 999 && { dueDate: '2027-02-30' }),
      })),
    }).replace(/é/g, '\\u00e9');
    assert.ok(escaped.length > 2_500_000, `${escaped.length} bytes`);
    const large = await httpRequest(`${engineServer.url}/api/v1/dossiers/bulk`, {
      token: service,
      method: 'POST',
      body: escaped,
    });
    assert.equal(large.status, 400, large.text.slice(0, 300));
    assert.deepEqual(
      large.json.error.issues?.map((issue: { field: string }) => issue.field),
      ['dossiers.999.dueDate'],
    );
    const huge = await bulk({
      dossiers: batchOf('B4', 1).map((d) => ({ ...d, title: 'x'.repeat(9_000_000) })),
    });
    assert.equal(huge.status, 413, huge.text);
    assert.equal(huge.json.error.code, 'payload_too_large');
    const anonymous = await httpRequest(`${engineServer.url}/api/v1/dossiers/bulk`, {
      method: 'POST',
      body: { dossiers: batchOf('B7', 1).map((d) => ({ ...d, title: 'x'.repeat(2_000_000) })) },
    });
    assert.equal(anonymous.status, 401, 'the token is checked before the body is read');
    const user = await bulk({ dossiers: batchOf('B5', 1) }, await engineServer.token('alice'));
    assert.equal(user.status, 403);
  });

  it('503 with every dossier not sent, without waiting out a timeout per dossier, when Temporal is unreachable', async () => {
    const reply = await httpRequest(`${harness.url}/api/v1/dossiers/bulk`, {
      token: await harness.token('normx-backend', { service: true }),
      body: { dossiers: batchOf('B8', 100) },
    });
    assert.equal(reply.status, 503, reply.text);
    assert.equal(reply.json.sent, 0);
    const results = reply.json.results as Array<{
      id: string;
      sent: boolean;
      eventId: string;
      error: string;
    }>;
    assert.equal(results.length, 100);
    assert.ok(results.every((result) => !result.sent && result.eventId && result.error));
    assert.ok(
      results.filter((result) => result.error.startsWith('not sent after an earlier failure')).length >= 50,
      'after the first failures, the rest are not started',
    );
  });
});

describe('user profile route (service token, Temporal dev server, real worker)', () => {
  const user = 'dora';
  let service: string;
  const profile = (body: unknown, token = service) =>
    httpRequest(`${engineServer.url}/api/v1/users/${user}/profile`, { method: 'PUT', token, body });
  type Plan = { timeZone: string; dossier: { status: string }; pending: Array<{ kind: string; at: string }> };
  const planOf = (id: string) =>
    httpRequest<Plan>(`${engineServer.url}/api/v1/dossiers/${id}/plan`, { token: service });
  const j0In = (id: string, zone: string) =>
    waitFor(
      `${id}'s j-0 planned in ${zone}`,
      async () => {
        const reply = await planOf(id);
        return (
          reply.status === 200 &&
          reply.json.timeZone === zone &&
          reply.json.pending.find((reminder) => reminder.kind === 'j-0')
        );
      },
      { timeoutMs: 15_000, intervalMs: 100 },
    );
  const userRow = async () =>
    (
      await engineServer.db.query<{ name: string; locale: string; timezone: string }>(
        'select name, locale, timezone from users where id = $1',
        [user],
      )
    )[0];
  const fieldsOf = (reply: ReplyJson): string[] =>
    (reply.error.issues as Array<{ field: string }>).map((issue) => issue.field);
  const dueDate = DateTime.now().setZone('Europe/Paris').plus({ days: 10 }).toISODate()!;
  const at0800 = (zone: string): string => DateTime.fromISO(`${dueDate}T08:00`, { zone }).toUTC().toISO()!;

  before(async () => {
    service = await engineServer.token('normx-backend', { service: true });
  });

  it("202, then the user's row has the new zone and each open dossier of theirs is planned in it", async () => {
    const ids = ['D-dora-1', 'D-dora-2'];
    for (const id of ids) {
      const created = await httpRequest(`${engineServer.url}/api/v1/dossiers`, {
        token: service,
        body: { id, title: `Bilan ${id}`, ownerId: user, dueDate },
      });
      assert.equal(created.status, 202, created.text);
      assert.equal((await j0In(id, 'Europe/Paris')).at, at0800('Europe/Paris'));
    }

    const reply = await profile({ name: 'Dora', locale: 'en', timezone: 'America/Montreal', eventId: 'p-1' });
    assert.equal(reply.status, 202, reply.text);
    assert.deepEqual(reply.json, { workflowId: `user:${user}`, eventId: 'p-1' });

    const row = await waitFor('the new zone in PostgreSQL', async () => {
      const found = await userRow();
      return found?.timezone === 'America/Montreal' && found;
    });
    assert.deepEqual(row, { name: 'Dora', locale: 'en', timezone: 'America/Montreal' });
    for (const id of ids) {
      assert.equal((await j0In(id, 'America/Montreal')).at, at0800('America/Montreal'), id);
      assert.equal((await planOf(id)).json.pending.length, 5, id);
    }

    // Without an eventId the call gets one.
    const again = await profile({ timezone: 'Asia/Tokyo' });
    assert.equal(again.status, 202, again.text);
    assert.match(String(again.json.eventId), /^\S+$/);
    for (const id of ids) assert.equal((await j0In(id, 'Asia/Tokyo')).at, at0800('Asia/Tokyo'), id);
  });

  it('403 for a user token, even the user their own', async () => {
    const reply = await profile({ timezone: 'Europe/Paris' }, await engineServer.token(user));
    assert.equal(reply.status, 403, reply.text);
    assert.equal(reply.json.error.code, 'forbidden');
  });

  it('400 naming the field: an unknown zone, an unknown field, a NUL in the name, a bad eventId', async () => {
    const cases: Array<[unknown, string[]]> = [
      [{ timezone: 'Mars/Olympus_Mons' }, ['timezone']],
      [{ timezone: 'Europe/Paris', zone: 'Europe/Paris' }, ['zone']],
      [{ name: 'Do\u0000ra' }, ['name']],
      [{ locale: 'de' }, ['locale']],
      [{ timezone: 'Europe/Paris', eventId: '' }, ['eventId']],
      [undefined, ['(input)']],
    ];
    for (const [body, fields] of cases) {
      const reply = await profile(body);
      assert.equal(reply.status, 400, `${JSON.stringify(body)}: ${reply.text}`);
      assert.equal(reply.json.error.code, 'validation_failed');
      assert.deepEqual(fieldsOf(reply.json), fields, JSON.stringify(body));
    }
    const badUser = await httpRequest(`${engineServer.url}/api/v1/users/bad%00user/profile`, {
      method: 'PUT',
      token: service,
      body: { timezone: 'Europe/Paris' },
    });
    assert.equal(badUser.status, 400, badUser.text);
    assert.deepEqual(fieldsOf(badUser.json), ['userId']);
    // None of them reached the workflow: the zone is the last one accepted.
    assert.equal((await userRow())?.timezone, 'Asia/Tokyo');
  });
});
