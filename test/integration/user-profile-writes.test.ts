import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createDossierActivities } from '../../activities/dossier-activities.js';
import { loadConfig } from '../../config/config.js';
import type { PlanningContext } from '../../domain/dossier.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { inActivity } from '../support/activity-context.js';

/**
 * `users.updated_at` dates a real profile change: the reminder audit waits that long after it for
 * the re-plans it causes, so a profile sent again unchanged with every call must not move it
 * (the audit review: a busy owner's lost reminders were never even looked at).
 */
let db: TestDatabase;
let activities: ReturnType<typeof createDossierActivities>;
before(async () => {
  db = await createTestDatabase();
  activities = createDossierActivities({
    orm: db.orm,
    temporal: { client: {} as never, taskQueue: 'unused' },
    config: loadConfig({}),
  });
});
after(async () => {
  await db?.drop();
});

const updatedAt = async () =>
  (await db.query<{ at: Date }>(`select updated_at as at from users where id = 'profiled'`))[0]!.at.getTime();

describe('user profile writes', () => {
  it('moves updated_at on a change only, not on the same profile sent again', async () => {
    const save = (timezone: string) =>
      inActivity(activities.saveUserProfile, {
        userId: 'profiled',
        profile: { timezone, locale: 'fr' as const },
      });
    await save('Europe/Paris');
    const first = await updatedAt();
    await db.query(`update users set updated_at = updated_at - interval '1 hour' where id = 'profiled'`);
    const before = await updatedAt();
    assert.equal(before, first - 3_600_000);
    assert.deepEqual(await save('Europe/Paris'), { changed: false });
    assert.equal(await updatedAt(), before, 'the same profile again writes nothing');
    assert.deepEqual(await save('America/Montreal'), { changed: true });
    assert.ok((await updatedAt()) > before, 'a change moves it');
  });

  it('the same calendar with a region sent again is no change, whatever order jsonb gives its keys back in', async () => {
    const save = () =>
      inActivity(activities.saveUserProfile, {
        userId: 'alsatian',
        profile: {
          businessCalendar: { country: 'FR', region: '67', closedDays: ['12-24'] },
          reminderTime: '09:30',
        },
      });
    await save();
    const stamp = async () =>
      (
        await db.query<{ at: Date }>(`select zone_changed_at as at from users where id = 'alsatian'`)
      )[0]!.at.getTime();
    const first = await stamp();
    assert.deepEqual(await save(), { changed: false });
    assert.deepEqual(await save(), { changed: false });
    assert.equal(await stamp(), first, 'the same planning sent again moves nothing');
  });

  it('a calendar or reminder time the API would refuse, written by NormX, plans with the service settings instead of failing', async () => {
    await db.query(
      `insert into users (id, business_calendar, reminder_time) values ('written-by-normx', '{"country":"FR","closedDays":[null]}', '25:00')`,
    );
    const context = (await inActivity(activities.ownerContext, 'written-by-normx', {
      dueDate: '2027-06-14',
    })) as PlanningContext;
    // The service's: France, 08:00 (a Monday deadline's j-1 then moves off Sunday).
    assert.deepEqual(context.policy.reminderTime, { hour: 8, minute: 0 });
    assert.equal(context.calendar?.name, 'FR');
    await db.query(
      `update users set business_calendar = '{"country":"XX"}', reminder_time = '7:5' where id = 'written-by-normx'`,
    );
    const again = (await inActivity(activities.ownerContext, 'written-by-normx', {
      dueDate: '2027-06-14',
    })) as PlanningContext;
    assert.equal(again.calendar?.name, 'FR');
    assert.deepEqual(again.policy.reminderTime, { hour: 8, minute: 0 });
  });
});
