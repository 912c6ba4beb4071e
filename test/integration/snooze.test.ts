import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DateTime } from 'luxon';
import { dossierLives, kinds, local, localDate, PARIS, uniqueId } from '../support/dossier-lives.js';
import { httpRequest } from '../support/notify-server.js';
import type { NotificationRow } from '../support/reminder-engine.js';
import { useEngineAndServer } from '../support/engine-and-server.js';
import { waitFor } from '../support/wait.js';

/**
 * Snooze end to end on the time-skipping server: the bell's REST call (the real delivery server,
 * the user's token), the dossier's workflow (real worker and activities, PostgreSQL). A snoozed
 * reminder is marked read and comes again to its user as a new notification referring to the
 * first, at the preset's instant in the owner's zone; a dossier done before then sends nothing;
 * a retried call snoozes once; what is not the user's, or not a dossier's reminder, is refused.
 */

const stack = useEngineAndServer();
const { rowsOnceSettled, advanceTo } = dossierLives(
  () => stack.engine,
  () => stack.env,
);

async function snooze(userId: string, id: string, body: unknown) {
  return httpRequest<{ eventId?: string; error?: { code: string; issues?: Array<{ field: string }> } }>(
    `${stack.server.url}/api/v1/users/me/notifications/${id}/snooze`,
    { token: await stack.server.token(userId), body },
  );
}

async function readAt(id: string): Promise<Date | null> {
  const rows = await stack.engine.db.query<{ read_at: Date | null }>(
    'select read_at from notifications where id = $1',
    [id],
  );
  return rows[0]!.read_at;
}

async function dataOf(id: string): Promise<Record<string, unknown>> {
  const rows = await stack.engine.db.query<{ data: Record<string, unknown> }>(
    'select data from notifications where id = $1',
    [id],
  );
  return rows[0]!.data;
}

describe('snooze (REST, time-skipping server, real worker and PostgreSQL)', () => {
  it('a reminder snoozed to tomorrow comes again then, once, referring to the first; one snoozed past the dossier’s completion never does', async () => {
    const owner = uniqueId('snoozer');
    const id = uniqueId('snooze');
    const other = uniqueId('snooze-done');
    const due = localDate(await stack.env.currentTimeMs())
      .plus({ days: 10 })
      .toISODate()!;
    for (const dossierId of [id, other]) {
      await stack.engine.dossiers.create({
        id: dossierId,
        title: `Liasse ${dossierId}`,
        ownerId: owner,
        dueDate: due,
        owner: { timezone: PARIS },
      });
    }
    // j-7 of both at 08:00, three days before their deadline.
    const j7Day = DateTime.fromISO(due).minus({ days: 7 }).toISODate()!;
    await advanceTo(local(j7Day, '09:00'));
    const [j7] = (await rowsOnceSettled(id, 2)).filter((row) => row.kind === 'j-7') as [NotificationRow];
    const [otherJ7] = (await rowsOnceSettled(other, 2)).filter((row) => row.kind === 'j-7') as [
      NotificationRow,
    ];

    // Refused: both or neither of until and preset; an instant in the past; another user's
    // notification (answered as missing); a notice, which no rule sends again.
    const both = await snooze(owner, j7.id, {
      preset: 'tomorrow',
      until: new Date(Date.now() + 2 * 86_400_000).toISOString(),
    });
    assert.equal(both.status, 400);
    assert.deepEqual(
      both.json.error?.issues?.map((issue) => issue.field),
      ['preset'],
    );
    const past = await snooze(owner, j7.id, { until: '2020-01-01T00:00:00Z' });
    assert.equal(past.status, 400);
    assert.equal((await snooze('someone-else', j7.id, { preset: 'tomorrow' })).status, 404);
    const created = (await rowsOnceSettled(id, 2)).find((row) => row.kind === 'created')!;
    const notice = await snooze(owner, created.id, { preset: 'tomorrow' });
    assert.equal(notice.status, 400);
    assert.deepEqual(
      notice.json.error?.issues?.map((issue) => issue.field),
      ['id'],
    );
    assert.equal(await readAt(j7.id), null, 'a refused snooze leaves the notification unread');

    // Snoozed to tomorrow, twice with the same event id (a retry): one snooze.
    const accepted = await snooze(owner, j7.id, { preset: 'tomorrow', eventId: 'snooze-1' });
    assert.equal(accepted.status, 202, accepted.text);
    assert.equal((await snooze(owner, j7.id, { preset: 'tomorrow', eventId: 'snooze-1' })).status, 202);
    assert.ok(await readAt(j7.id), 'the snoozed notification is marked read');
    const tomorrow = local(DateTime.fromISO(j7Day).plus({ days: 1 }).toISODate()!, '08:00');
    const plan = await waitFor('the snooze in the plan', async () => {
      const view = await stack.engine.dossiers.plan(id);
      return view.snoozed?.length === 1 && view;
    });
    assert.deepEqual(
      plan.snoozed!.map((s) => [s.notificationId, s.kind, s.userId, s.at]),
      [[j7.id, 'j-7', owner, tomorrow]],
    );

    // The other one is snoozed in two hours, then completed first: nothing comes again.
    assert.equal((await snooze(owner, otherJ7.id, { preset: 'in-2-hours' })).status, 202);
    await waitFor(
      'the other snooze in its plan',
      async () => (await stack.engine.dossiers.plan(other)).snoozed?.length === 1,
    );
    await stack.engine.dossiers.complete(other);
    await rowsOnceSettled(other, 3);
    // Its dossier closed: nothing to send again, refused before any workflow is touched.
    const closed = await snooze(owner, otherJ7.id, { preset: 'tomorrow' });
    assert.equal(closed.status, 400);
    assert.deepEqual(
      closed.json.error?.issues?.map((issue) => issue.field),
      ['id'],
    );

    await advanceTo(local(DateTime.fromISO(j7Day).plus({ days: 1 }).toISODate()!, '12:00'));
    const rows = await rowsOnceSettled(id, 3);
    assert.deepEqual(kinds(rows), [
      'dossier_update/created',
      'deadline_reminder/j-7',
      'deadline_reminder/j-7',
    ]);
    const again = rows[2]!;
    assert.notEqual(again.id, j7.id);
    assert.equal(again.user_id, owner);
    assert.equal(again.scheduled_for?.toISOString(), tomorrow);
    assert.equal((await dataOf(again.id)).snoozedFrom, j7.id);
    // Its words count from the day it comes: six days left.
    assert.match(again.title, /^Échéance dans 6 jours : /);
    assert.equal((await stack.engine.dossiers.plan(id)).snoozed, undefined);
    assert.deepEqual(kinds(await rowsOnceSettled(other, 3)), [
      'dossier_update/created',
      'deadline_reminder/j-7',
      'dossier_update/completed',
    ]);
    await stack.engine.dossiers.cancel(id);
  });

  it('a dossier keeps at most 20 snoozes at once: the 21st is refused by the route (429) and by the engine (rejected)', async () => {
    const owner = uniqueId('snooze-cap');
    const id = uniqueId('snooze-cap');
    const due = localDate(await stack.env.currentTimeMs())
      .plus({ days: 10 })
      .toISODate()!;
    await stack.engine.dossiers.create({
      id,
      title: `CVAE ${id}`,
      ownerId: owner,
      dueDate: due,
      owner: { timezone: PARIS },
    });
    await advanceTo(local(DateTime.fromISO(due).minus({ days: 7 }).toISODate()!, '09:00'));
    const [j7] = (await rowsOnceSettled(id, 2)).filter((row) => row.kind === 'j-7') as [NotificationRow];
    // Twenty snoozes sent through the client API (the route checks ownership; the engine only counts).
    for (let n = 1; n <= 20; n += 1) {
      await stack.engine.dossiers.snooze(id, {
        notificationId: String(900_000 + n),
        type: 'deadline_reminder',
        kind: 'j-7',
        userId: owner,
        preset: 'tomorrow',
      });
    }
    await waitFor(
      'twenty snoozes in the plan',
      async () => (await stack.engine.dossiers.plan(id)).snoozed?.length === 20,
    );

    const refused = await snooze(owner, j7.id, { preset: 'tomorrow' });
    assert.equal(refused.status, 429, refused.text);
    assert.equal(await readAt(j7.id), null, 'a refused snooze leaves the notification unread');
    // Past the route (a call racing it, or the client API): the engine refuses it too, and says so.
    await stack.engine.dossiers.snooze(
      id,
      { notificationId: j7.id, type: 'deadline_reminder', kind: 'j-7', userId: owner, preset: 'tomorrow' },
      { eventId: 'cap-21' },
    );
    const plan = await waitFor('the 21st rejected', async () => {
      const view = await stack.engine.dossiers.plan(id);
      return view.rejected?.some((event) => event.eventId === 'cap-21') && view;
    });
    assert.equal(plan.snoozed?.length, 20);
    assert.ok(!plan.snoozed!.some((s) => s.notificationId === j7.id));
    await stack.engine.dossiers.cancel(id);
  });
});
