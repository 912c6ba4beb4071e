import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DateTime } from 'luxon';
import { dossierLives, local, localDate, PARIS, uniqueId } from '../support/dossier-lives.js';
import { useEngineAndServer } from '../support/engine-and-server.js';
import { parisClock, preferencesCalls } from '../support/preferences.js';

/**
 * Preferences applied by the real delivery activity when the dossier's workflow (time-skipping
 * server, real worker, PostgreSQL) stores each notification, set through the real server's REST
 * route: a kind out of the bell is stored archived, one without popup carries `data.popup: false`;
 * quiet hours silence what arrives in them, except `overdue_critical`. The route itself (refusals,
 * tokens, the reminder hour): preferences.test.ts.
 *
 * Quiet hours are read on the activity's clock, the real one (a popup is about when it really
 * arrives), not the test server's skipped workflow clock: the windows below are set around the
 * real time of the run, wide enough for the test to stay inside them.
 */

const stack = useEngineAndServer();
const { put, stored } = preferencesCalls(stack);
const { rowsOnceSettled, advanceTo } = dossierLives(
  () => stack.engine,
  () => stack.env,
);

describe('preferences applied to deliveries (time-skipping server, real worker and PostgreSQL)', () => {
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
});
