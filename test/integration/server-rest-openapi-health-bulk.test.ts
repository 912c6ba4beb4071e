import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DateTime } from 'luxon';
import {
  DOSSIER_ID_PATTERN,
  DUE_DATE_MAX,
  DUE_DATE_MIN,
  ID_MAX_LENGTH,
  OWNER_NAME_MAX_LENGTH,
  TITLE_MAX_LENGTH,
} from '../../domain/limits.js';
import { httpRequest, startServerHarness, type ServerHarness } from '../support/notify-server.js';
import { engineServer, setUpEngineServer } from '../support/server-rest.js';
import { waitFor } from '../support/wait.js';

/**
 * The REST API of a real server, with and without Temporal: the OpenAPI document (routes,
 * schemas, limits, only routes that exist), health (degraded without Temporal, ok with a real
 * dev server, on the internal port only), and the bulk onboarding route through a real Temporal
 * dev server and worker (each dossier stored once, bad items named, bounds, 503 without Temporal).
 */

/** Without Temporal: degraded health, the bulk route's 503. */
let harness: ServerHarness;

/** GET /healthz on `harness`, started while the dev server starts: it waits out its Temporal timeout. */
let degradedHealth: Promise<{ elapsedMs: number; reply: Awaited<ReturnType<typeof httpRequest>> }>;

before(async () => {
  harness = await startServerHarness();
  const started = Date.now();
  degradedHealth = httpRequest(`${harness.internalUrl}/healthz`).then((reply) => ({
    elapsedMs: Date.now() - started,
    reply,
  }));
});
after(async () => {
  await harness?.close();
});
setUpEngineServer();

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
