import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DateTime } from 'luxon';
import { dossierLives, local, localDate, PARIS, uniqueId } from '../support/dossier-lives.js';
import { httpRequest, startServerHarness, type ServerHarness } from '../support/notify-server.js';
import { useEngineAndServer } from '../support/engine-and-server.js';
import { waitFor } from '../support/wait.js';

/**
 * Preferences end to end: set through the real server's REST route (the user's token, the service
 * token), applied by the real delivery activity when the dossier's workflow (time-skipping server,
 * real worker, PostgreSQL) stores each notification. A kind out of the bell is stored archived,
 * one without popup carries `data.popup: false`; quiet hours silence what arrives in them, except
 * `overdue_critical`; a new reminder hour re-plans the user's open dossiers.
 *
 * Quiet hours are read on the activity's clock, the real one (a popup is about when it really
 * arrives), not the test server's skipped workflow clock: the windows below are set around the
 * real time of the run, wide enough for the test to stay inside them.
 */

const stack = useEngineAndServer();
const { rowsOnceSettled, advanceTo } = dossierLives(
  () => stack.engine,
  () => stack.env,
);

interface PreferencesJson {
  kinds: Array<{ kind: string; bell: boolean; popup: boolean; mutable: boolean }>;
  quietHours: { from: string; to: string } | null;
  reminderTime: string | null;
  defaultReminderTime: string;
  error?: { code: string; issues?: Array<{ field: string }> };
}

async function put(
  userId: string,
  body: unknown,
  { service = false, server = stack.server }: { service?: boolean; server?: ServerHarness } = {},
) {
  const token = await server.token(service ? 'normx-backend' : userId, { service });
  return httpRequest<PreferencesJson>(`${server.url}/api/v1/users/${service ? userId : 'me'}/preferences`, {
    method: 'PUT',
    token,
    body,
  });
}

/** The real local clock in Paris, `minutes` from now, as `HH:mm`. */
const parisClock = (minutes: number): string =>
  DateTime.now().setZone(PARIS).plus({ minutes }).toFormat('HH:mm');

async function stored(dossierId: string) {
  return stack.engine.db.query<{ kind: string; archived_at: Date | null; data: Record<string, unknown> }>(
    'select kind, archived_at, data from notifications where dossier_id = $1 order by id',
    [dossierId],
  );
}

describe('preferences (REST, time-skipping server, real worker and PostgreSQL)', () => {
  it('a kind out of the bell is stored archived, one without popup silenced; quiet hours silence the rest but overdue_critical', async () => {
    const owner = uniqueId('prefs');
    // Out of the bell: `created`; no popup: `j-7`; quiet now (two hours either side of the real clock).
    const set = await put(owner, {
      kinds: { created: { bell: false, popup: false }, 'j-7': { bell: true, popup: false } },
      quietHours: { from: parisClock(-120), to: parisClock(180) },
    });
    assert.equal(set.status, 200, set.text);
    assert.deepEqual(
      set.json.kinds.filter((k) => !k.bell || !k.popup).map((k) => k.kind),
      ['j-7', 'created'],
    );
    assert.deepEqual(
      set.json.kinds.find((k) => k.kind === 'overdue_critical'),
      {
        kind: 'overdue_critical',
        bell: true,
        popup: true,
        mutable: false,
      },
    );

    // A dossier due in 10 days: created, then j-7.
    const id = uniqueId('prefs-dossier');
    const due = localDate(await stack.env.currentTimeMs())
      .plus({ days: 10 })
      .toISODate()!;
    await stack.engine.dossiers.create({
      id,
      title: `TVA ${id}`,
      ownerId: owner,
      dueDate: due,
      owner: { timezone: PARIS },
    });
    await advanceTo(local(DateTime.fromISO(due).minus({ days: 7 }).toISODate()!, '09:00'));
    await rowsOnceSettled(id, 2);
    const [created, j7] = await stored(id);
    assert.equal(created!.kind, 'created');
    assert.ok(created!.archived_at, 'out of the bell: stored archived');
    assert.deepEqual([created!.data.popup, created!.data.silencedBy], [false, 'preference']);
    assert.equal(j7!.kind, 'j-7');
    assert.equal(j7!.archived_at, null, 'in the bell');
    assert.deepEqual([j7!.data.popup, j7!.data.silencedBy], [false, 'preference']);

    // A dossier already 5 days late: overdue and overdue_critical at once, in the quiet hours.
    const late = uniqueId('prefs-late');
    const lateDue = localDate(await stack.env.currentTimeMs())
      .minus({ days: 5 })
      .toISODate()!;
    await stack.engine.dossiers.create({
      id: late,
      title: `Liasse ${late}`,
      ownerId: owner,
      dueDate: lateDue,
    });
    await rowsOnceSettled(late, 3);
    const byKind = new Map((await stored(late)).map((row) => [row.kind, row]));
    assert.deepEqual(
      [byKind.get('overdue')!.data.popup, byKind.get('overdue')!.data.silencedBy],
      [false, 'quiet_hours'],
    );
    assert.equal(byKind.get('overdue')!.archived_at, null);
    assert.equal(
      byKind.get('overdue_critical')!.data.popup,
      undefined,
      'overdue_critical pops up in quiet hours',
    );
    assert.equal(byKind.get('overdue_critical')!.archived_at, null);
  });

  it('outside the quiet hours a notice pops up, in a zone no library knows too; a row muting overdue_critical written by hand does not mute it', async () => {
    const owner = uniqueId('prefs-day');
    // Quiet hours that end an hour before now and start two hours after: not quiet now.
    assert.equal(
      (await put(owner, { quietHours: { from: parisClock(120), to: parisClock(-60) } })).status,
      200,
    );
    await stack.engine.db.query(
      `update notification_preferences set kinds = '{"overdue_critical": {"bell": false, "popup": false}}' where user_id = $1`,
      [owner],
    );
    // A zone NormX wrote that no library knows: read as the service's (Paris), as planning does,
    // not as midnight (which these quiet hours cover).
    await stack.engine.db.query(
      `insert into users (id, timezone) values ($1, 'Mars/Olympus_Mons') on conflict (id) do update set timezone = excluded.timezone`,
      [owner],
    );
    const late = uniqueId('prefs-day-late');
    const lateDue = localDate(await stack.env.currentTimeMs())
      .minus({ days: 5 })
      .toISODate()!;
    await stack.engine.dossiers.create({ id: late, title: `IS ${late}`, ownerId: owner, dueDate: lateDue });
    await rowsOnceSettled(late, 3);
    for (const row of await stored(late)) {
      assert.equal(row.archived_at, null, row.kind);
      assert.equal(row.data.popup, undefined, `${row.kind} pops up`);
    }
  });

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
