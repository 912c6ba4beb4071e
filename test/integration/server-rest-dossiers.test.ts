import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DateTime } from 'luxon';
import { httpRequest, type ReplyJson, type TestSocket } from '../support/notify-server.js';
import {
  engine,
  engineServer,
  setUpEngineServer,
  socketFor,
  type Notification,
} from '../support/server-rest.js';
import { waitFor } from '../support/wait.js';

/**
 * The dossier and user profile routes of a real server, driven end to end through a real Temporal
 * dev server and worker (service token): create, reschedule, complete and the plan of a dossier,
 * with the owner's socket receiving the result, a plan asked for before the create came, bad
 * input; a user's new zone reaching their row and each open dossier's plan, and what it refuses.
 */

setUpEngineServer();

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
