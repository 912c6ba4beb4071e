import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DateTime, Duration } from 'luxon';
import type { DeliveryMetrics } from '../../activities/dependencies.js';
import { createDossierActivities } from '../../activities/dossier-activities.js';
import { loadConfig } from '../../config/config.js';
import { reminderKey } from '../../domain/idempotency-keys.js';
import { deadlineKey, remindersOf } from '../../domain/reminder-plan.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { WITHOUT_BUSINESS_DAYS } from '../support/reminder-engine.js';
import { inActivity } from '../support/activity-context.js';

/**
 * The late flag when a dossier changes owner just after its previous owner changed zone. Owner A
 * moves Honolulu → Tokyo (the announcement to this dossier still queued), then the dossier is
 * assigned to B, in Tokyo: the run re-arms from Honolulu to Tokyo and fires at once a reminder the
 * change moved into the past. That reminder is on time, like the same one fired to A without the
 * assign; before, the assign (same zone, no stamp) lost A's zone change and it was marked late and
 * counted missed.
 */
const config = loadConfig(WITHOUT_BUSINESS_DAYS);
const HONOLULU = 'Pacific/Honolulu';
const TOKYO = 'Asia/Tokyo';
const DAY = 86_400_000;
let db: TestDatabase;
const missed: string[] = [];
const metrics: DeliveryMetrics = {
  stored: () => {},
  duplicateSkipped: () => {},
  reminderMissed: (labels) => missed.push(`${labels.kind}:${labels.outcome}`),
  auditFinding: () => {},
};
const deps = () => ({
  orm: db.orm,
  temporal: { client: {} as never, taskQueue: 'late-flag-zones' },
  config,
  metrics,
});
const acts = () => createDossierActivities(deps());

/** A date and kind whose reminder is past (beyond the grace) in Tokyo and still to come in Honolulu. */
function pick(): { dueDate: string; kind: string; tokyoAt: string; type: 'deadline_reminder' | 'new_alert' } {
  const grace = Duration.fromISO(config.reminderAudit.grace).toMillis();
  const now = Date.now();
  for (let d = -10; d <= 10; d += 1) {
    const dueDate = DateTime.utc().plus({ days: d }).toISODate()!;
    const inZone = (zone: string) =>
      remindersOf({ deadline: { dueDate }, timeZone: zone, policy: config.reminderPolicy });
    for (const t of inZone(TOKYO)) {
      const h = inZone(HONOLULU).find((r) => r.kind === t.kind)!;
      if (Date.parse(t.dueInstant) < now - grace - 3_600_000 && Date.parse(h.dueInstant) > now + 60_000)
        return { dueDate, kind: t.kind, tokyoAt: t.dueInstant, type: t.type as never };
    }
  }
  throw new Error('no candidate');
}

before(async () => {
  db = await createTestDatabase();
});
after(async () => {
  await db?.drop();
});

async function setUp(id: string, ownerA: string, ownerB: string) {
  const long = new Date(Date.now() - 10 * DAY);
  for (const [user, zone] of [
    [ownerA, HONOLULU],
    [ownerB, TOKYO],
  ])
    await db.query(`insert into users (id, timezone, updated_at, zone_changed_at) values ($1, $2, $3, $3)`, [
      user,
      zone,
      long,
    ]);
  const chosen = pick();
  const snapshot = {
    id,
    title: `T ${id}`,
    ownerId: ownerA,
    dueDate: chosen.dueDate,
    urgent: false,
    status: 'open' as const,
  };
  await inActivity(acts().saveDossier, { dossier: snapshot });
  await db.query(
    `update dossiers set planned_at = $2, replanned_at = $2, updated_at = $2, planned_zone = $3 where id = $1`,
    [id, long, HONOLULU],
  );
  return { snapshot, chosen, key: reminderKey(id, deadlineKey({ dueDate: chosen.dueDate }), chosen.kind) };
}

async function fire(
  snapshot: { id: string; dueDate: string },
  chosen: ReturnType<typeof pick>,
  key: string,
  userId: string,
): Promise<boolean> {
  missed.length = 0;
  await inActivity(acts().deliverNotification, {
    idempotencyKey: key,
    userId,
    type: chosen.type,
    kind: chosen.kind,
    dossier: { ...snapshot, title: 'T', ownerId: userId, urgent: false, status: 'open' as const },
    scheduledFor: chosen.tokyoAt,
  });
  const [row] = await db.query<{ data: { late?: boolean } }>(
    'select data from notifications where idempotency_key = $1',
    [key],
  );
  return row!.data.late === true;
}

describe('a zone change, then an assign to an owner in the new zone', () => {
  it('control: the owner stays, the reminder moved into the past by her zone change is not late', async () => {
    const { snapshot, chosen, key } = await setUp('ctl', 'a-ctl', 'b-ctl');
    await inActivity(acts().saveUserProfile, { userId: 'a-ctl', profile: { timezone: TOKYO }, eventId: 'z' });
    const late = await fire(snapshot, chosen, key, 'a-ctl');
    assert.equal(late, false);
  });

  it('the reminder the change moved into the past, fired to the new owner, is not late either', async () => {
    const { snapshot, chosen, key } = await setUp('atk', 'a-atk', 'b-atk');
    await inActivity(acts().saveUserProfile, { userId: 'a-atk', profile: { timezone: TOKYO }, eventId: 'z' });
    await inActivity(acts().saveDossierChanges, {
      dossier: { ...snapshot, ownerId: 'b-atk' },
      fields: ['ownerId'],
      eventId: 'assign',
    });
    // The run (context still Honolulu: the announcement is queued behind the assign, and ignored
    // after it since the owner changed) re-arms to Tokyo: the reminder moved into the past fires now.
    const late = await fire(snapshot, chosen, key, 'b-atk');
    assert.equal(late, false);
    assert.deepEqual(missed, []);
  });
});
