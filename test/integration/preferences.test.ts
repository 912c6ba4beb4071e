import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DateTime } from 'luxon';
import { localDate, PARIS, uniqueId } from '../support/dossier-lives.js';
import { useEngineAndServer } from '../support/engine-and-server.js';
import { httpRequest, startServerHarness } from '../support/notify-server.js';
import { preferencesCalls, type PreferencesJson } from '../support/preferences.js';
import { waitFor } from '../support/wait.js';

/**
 * The preferences route on the real server with the real worker (time-skipping server, PostgreSQL):
 * refusals naming the field and storing nothing, the user's and the service token's rules, a new
 * reminder hour re-planning the user's open dossiers within its limits, an hour set back on another
 * server, Temporal unreachable, a `__proto__` kind. Their effect on deliveries: preferences-delivery.test.ts.
 */

const stack = useEngineAndServer();
const { put } = preferencesCalls(stack);

describe('preferences route (REST, time-skipping server, real worker and PostgreSQL)', () => {
  it('refusals name the field and change nothing; the service token sets a user’s preferences by id, not `me`', async () => {
    const owner = uniqueId('prefs-refused');
    const muted = await put(owner, { kinds: { overdue_critical: { bell: true, popup: false } } });
    assert.equal(muted.status, 400);
    assert.deepEqual(
      muted.json.error?.issues?.map((issue) => issue.field),
      ['kinds.overdue_critical'],
    );
    const unknown = await put(owner, {
      kinds: { 'j-7': { bell: true, popup: true }, soon: { bell: true, popup: true } },
    });
    assert.deepEqual(
      unknown.json.error?.issues?.map((issue) => issue.field),
      ['kinds.soon'],
    );
    const empty = await put(owner, { quietHours: { from: '08:00', to: '08:00' } });
    assert.deepEqual(
      empty.json.error?.issues?.map((issue) => issue.field),
      ['quietHours.to'],
    );
    const rows = await stack.engine.db.query('select 1 from notification_preferences where user_id = $1', [
      owner,
    ]);
    assert.equal(rows.length, 0, 'nothing stored');

    const byService = await put(
      owner,
      { kinds: { report: { bell: true, popup: false } } },
      { service: true },
    );
    assert.equal(byService.status, 200, byService.text);
    const read = await httpRequest<PreferencesJson>(`${stack.server.url}/api/v1/users/me/preferences`, {
      token: await stack.server.token(owner),
    });
    assert.deepEqual(
      read.json.kinds.find((k) => k.kind === 'report'),
      { kind: 'report', bell: true, popup: false, mutable: true },
    );
    const serviceMe = await httpRequest(`${stack.server.url}/api/v1/users/me/preferences`, {
      token: await stack.server.token('normx-backend', { service: true }),
    });
    assert.equal(serviceMe.status, 403);
    const otherUser = await httpRequest(`${stack.server.url}/api/v1/users/${owner}/preferences`, {
      token: await stack.server.token(uniqueId('someone')),
    });
    assert.equal(otherUser.status, 403);
  });

  it('a new reminder hour re-plans the user’s open dossiers; a fourth change in ten minutes is refused', async () => {
    const owner = uniqueId('prefs-hour');
    const id = uniqueId('prefs-hour-dossier');
    const due = localDate(await stack.env.currentTimeMs())
      .plus({ days: 20 })
      .toISODate()!;
    await stack.engine.dossiers.create({
      id,
      title: `CFE ${id}`,
      ownerId: owner,
      dueDate: due,
      owner: { timezone: PARIS },
    });
    const hours = async () =>
      (await stack.engine.dossiers.plan(id)).pending
        .filter((r) => r.type === 'deadline_reminder')
        .map((r) => DateTime.fromISO(r.at, { zone: PARIS }).toFormat('HH:mm'));
    assert.deepEqual(await hours(), ['08:00', '08:00', '08:00']);

    const changed = await put(owner, { reminderTime: '07:30' });
    assert.equal(changed.status, 200, changed.text);
    assert.equal(changed.json.reminderTime, '07:30');
    await waitFor('the dossier re-planned at 07:30', async () => (await hours()).every((h) => h === '07:30'));
    await waitFor('the profile saved the hour', async () => {
      const read = await httpRequest<PreferencesJson>(`${stack.server.url}/api/v1/users/me/preferences`, {
        token: await stack.server.token(owner),
      });
      return read.json.reminderTime === '07:30';
    });

    assert.equal((await put(owner, { reminderTime: '07:45' })).status, 200);
    assert.equal((await put(owner, { reminderTime: null })).status, 200);
    const refused = await put(owner, { reminderTime: '09:00', quietHours: { from: '22:00', to: '07:00' } });
    assert.equal(refused.status, 429);
    assert.equal(refused.json.error?.code, 'rate_limited');
    const rows = await stack.engine.db.query<{ quiet_hours: unknown }>(
      'select quiet_hours from notification_preferences where user_id = $1',
      [owner],
    );
    assert.equal(rows[0]?.quiet_hours ?? null, null, 'a refused change stores nothing');
    // The same hour again is no change: not counted, not refused.
    await waitFor('the service hour saved', async () => {
      const read = await httpRequest<PreferencesJson>(`${stack.server.url}/api/v1/users/me/preferences`, {
        token: await stack.server.token(owner),
      });
      return read.json.reminderTime === null;
    });
    assert.equal((await put(owner, { reminderTime: null })).status, 200);
    await waitFor('the dossier back at 08:00', async () => (await hours()).every((h) => h === '08:00'));
  });

  it('an hour changed on one server and set back on another before the profile workflow saved it: both reach it, in order', async () => {
    const owner = uniqueId('prefs-back');
    const id = uniqueId('prefs-back-dossier');
    const due = localDate(await stack.env.currentTimeMs())
      .plus({ days: 20 })
      .toISODate()!;
    await stack.engine.dossiers.create({
      id,
      title: `TVS ${id}`,
      ownerId: owner,
      dueDate: due,
      owner: { timezone: PARIS },
    });
    await stack.engine.dossiers.plan(id);
    // A second delivery server (another process behind the load balancer, or this one restarted).
    const other = await startServerHarness({
      db: stack.engine.db,
      temporal: { client: stack.engine.client, taskQueue: stack.engine.taskQueue },
    });
    // The worker down: the profile workflow saves nothing until it is back.
    await stack.engine.stopWorker();
    try {
      assert.equal((await put(owner, { reminderTime: '06:45' })).status, 200);
      const back = await put(owner, { reminderTime: null }, { server: other });
      assert.equal(back.status, 200, back.text);
      assert.equal(back.json.reminderTime, null);
    } finally {
      await stack.engine.startWorker();
      await other.close();
    }
    await waitFor('both changes saved by the profile workflow', async () => {
      const rows = await stack.engine.db.query('select 1 from profile_changes where user_id = $1', [owner]);
      return rows.length === 2;
    });
    // The last change wins (the plan is not asked here: a query right after a worker restart
    // waits on the old worker's sticky queue on the test server).
    const rows = await stack.engine.db.query<{ reminder_time: string | null }>(
      'select reminder_time from users where id = $1',
      [owner],
    );
    assert.equal(rows[0]?.reminder_time, null);
  });

  it('Temporal unreachable: a new hour is answered 503, the rest of the change kept; sent again, it is applied', async () => {
    // A second delivery server on the same database whose Temporal does not answer.
    const down = await startServerHarness({ db: stack.engine.db });
    const owner = uniqueId('prefs-down');
    const body = { reminderTime: '07:15', quietHours: { from: '22:00', to: '07:00' } };
    try {
      const reply = await put(owner, body, { server: down });
      assert.equal(reply.status, 503, reply.text);
      assert.equal(reply.json.error?.code, 'unavailable');
      const rows = await stack.engine.db.query<{ quiet_hours: unknown }>(
        'select quiet_hours from notification_preferences where user_id = $1',
        [owner],
      );
      assert.deepEqual(rows[0]?.quiet_hours, body.quietHours, 'the quiet hours are kept');
    } finally {
      await down.close();
    }
    // The same PUT through a server that reaches Temporal: the hour is applied.
    assert.equal((await put(owner, body)).status, 200);
    await waitFor('the hour saved', async () => {
      const rows = await stack.engine.db.query<{ reminder_time: string | null }>(
        'select reminder_time from users where id = $1',
        [owner],
      );
      return rows[0]?.reminder_time === '07:15';
    });
  });

  it('a `__proto__` kind is refused naming it, and the stored kinds stay', async () => {
    const owner = uniqueId('prefs-proto');
    assert.equal((await put(owner, { kinds: { urgent: { bell: false, popup: false } } })).status, 200);
    const refused = await put(owner, '{"kinds":{"__proto__":{"bell":true,"popup":true}}}');
    assert.equal(refused.status, 400, refused.text);
    assert.deepEqual(
      refused.json.error?.issues?.map((issue) => issue.field),
      ['kinds.__proto__'],
    );
    const rows = await stack.engine.db.query<{ kinds: unknown }>(
      'select kinds from notification_preferences where user_id = $1',
      [owner],
    );
    assert.deepEqual(rows[0]?.kinds, { urgent: { bell: false, popup: false } });
  });
});
