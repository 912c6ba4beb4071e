import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DeliveryMetrics } from '../../activities/dependencies.js';
import { createDossierActivities } from '../../activities/dossier-activities.js';
import {
  createReminderAuditActivities,
  type AuditProgress,
} from '../../activities/reminder-audit-activities.js';
import { loadConfig } from '../../config/config.js';
import { reminderKey } from '../../domain/idempotency-keys.js';
import { deadlineKey } from '../../domain/reminder-plan.js';
import { inActivity } from '../support/activity-context.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { WITHOUT_BUSINESS_DAYS } from '../support/reminder-engine.js';

/**
 * The reminder audit and the late flag where they meet the workflow's own writes, on real
 * PostgreSQL, Temporal replaced by a fake that answers the audit's run list and `reminderPlan`
 * query as one RUNNING run does:
 * - a reminder stored hours after it was owed is marked late whatever unrelated write (a title, the
 *   owner's name) came just before it, and not when a write re-planned it (a zone change);
 * - one late reminder is counted once in `normx_notify_reminders_missed_total`, however many audits
 *   saw it waiting in its run first;
 * - a `complete` the run applies after answering the audit wins over the audit's restore.
 */

const HOUR = 3_600_000;
const OWNER = 'owner-races';
/** Another user in the owner's zone, known for hours. */
const OTHER = 'other-races';
const otherUser = () =>
  db.query(
    `insert into users (id, timezone, updated_at, zone_changed_at)
     values ($1, 'Europe/Paris', now() - interval '10 hours', now() - interval '10 hours') on conflict do nothing`,
    [OTHER],
  );
let db: TestDatabase;
const missed: string[] = [];
const findings: string[] = [];
const metrics: DeliveryMetrics = {
  stored: () => {},
  duplicateSkipped: () => {},
  reminderMissed: (labels) => missed.push(`${labels.kind}:${labels.outcome}`),
  auditFinding: (labels) => findings.push(`${labels.kind}:${labels.finding}`),
};
let plan: { sent: unknown[]; pending: Array<{ idempotencyKey: string; at: string }>; queued: number };
/** Runs after the fake run answered the audit's query (a call it applies meanwhile). */
let afterQuery: () => Promise<void> = async () => {};
const fakeTemporal = {
  connection: { withDeadline: (_deadline: number, call: () => Promise<unknown>) => call() },
  workflow: {
    async *list() {
      yield { runId: 'run-1', status: { name: 'RUNNING' } };
    },
    getHandle: () => ({
      query: async () => {
        const answer = structuredClone(plan);
        await afterQuery();
        return answer;
      },
    }),
  },
};
const deps = () => ({
  orm: db.orm,
  temporal: { client: fakeTemporal as never, taskQueue: 'races' },
  config: loadConfig(WITHOUT_BUSINESS_DAYS),
  metrics,
});
/** One audit run, as the schedule starts it now. */
const audit = async (): Promise<AuditProgress> =>
  (await inActivity(createReminderAuditActivities(deps()).auditReminders, {
    at: new Date().toISOString(),
  })) as AuditProgress;

/** An open dossier due `dueAgoMs` ago, its reminders planned, and last re-planned, `plannedAgoMs` ago. */
async function dossier(id: string, dueAgoMs: number, plannedAgoMs: number) {
  const dueAt = new Date(Date.now() - dueAgoMs).toISOString();
  const { saveDossier } = createDossierActivities(deps());
  const snapshot = { id, title: `T ${id}`, ownerId: OWNER, dueAt, urgent: false, status: 'open' as const };
  await inActivity(saveDossier, { dossier: snapshot });
  const planned = new Date(Date.now() - plannedAgoMs);
  await db.query('update dossiers set planned_at = $2, replanned_at = $2, updated_at = $2 where id = $1', [
    id,
    planned,
  ]);
  const long = new Date(Date.now() - 10 * HOUR);
  await db.query('update users set updated_at = $1, zone_changed_at = $1 where id = $2', [long, OWNER]);
  return { snapshot, key: reminderKey(id, deadlineKey({ dueAt }), 'overdue') };
}

/** The workflow's own delivery of the overdue alert (as the engine fires it); whether it is marked late. */
async function workflowDelivers(snapshot: { id: string; dueAt: string }, key: string): Promise<boolean> {
  const { deliverNotification } = createDossierActivities(deps());
  await inActivity(deliverNotification, {
    idempotencyKey: key,
    userId: OWNER,
    type: 'new_alert' as const,
    kind: 'overdue',
    dossier: { ...snapshot, title: 'T', ownerId: OWNER, urgent: false, status: 'open' as const },
    scheduledFor: snapshot.dueAt,
  });
  const [row] = await db.query<{ data: { late?: boolean } }>(
    'select data from notifications where idempotency_key = $1',
    [key],
  );
  return row!.data.late === true;
}

before(async () => {
  db = await createTestDatabase();
});
after(async () => {
  await db?.drop();
});

describe('a reminder stored 2 h after it was owed', () => {
  const { saveDossierChanges, saveUserProfile } = {
    saveDossierChanges: (
      ...args: Parameters<ReturnType<typeof createDossierActivities>['saveDossierChanges']>
    ) => inActivity(createDossierActivities(deps()).saveDossierChanges, ...args),
    saveUserProfile: (...args: Parameters<ReturnType<typeof createDossierActivities>['saveUserProfile']>) =>
      inActivity(createDossierActivities(deps()).saveUserProfile, ...args),
  };
  const cases: Array<[string, (snapshot: { id: string; dueAt: string }) => Promise<unknown>, boolean]> = [
    ['no other write: late', async () => undefined, true],
    [
      // What the run does first when it wakes after an outage: the calls queued meanwhile.
      'a title change applied just before: still late',
      (snapshot) =>
        saveDossierChanges({
          dossier: { ...snapshot, title: 'Renamed', ownerId: OWNER, urgent: false, status: 'open' },
          fields: ['title'],
          eventId: 'rename',
        }),
      true,
    ],
    [
      'the owner renamed just before: still late',
      () => saveUserProfile({ userId: OWNER, profile: { name: `Renamed ${Date.now()}` } }),
      true,
    ],
    [
      // A zone change moves the instants; one moved into the past fires at the change, on time.
      'the owner moved to another zone just before: on time',
      () => saveUserProfile({ userId: OWNER, profile: { timezone: 'America/Montreal' } }),
      false,
    ],
  ];
  for (const [name, write, late] of cases) {
    it(name, async () => {
      await saveUserProfile({ userId: OWNER, profile: { timezone: 'Europe/Paris' } });
      const { snapshot, key } = await dossier(
        `late-${cases.findIndex(([n]) => n === name)}`,
        2 * HOUR,
        3 * HOUR,
      );
      await write(snapshot);
      missed.length = 0;
      assert.equal(await workflowDelivers(snapshot, key), late);
      assert.deepEqual(missed, late ? ['overdue:sent_late'] : []);
    });
  }
});

describe('the grace (15 min) counts from the later of the instant and the plan that armed it', () => {
  // [name, due (the overdue alert's instant) ago, planned ago, late]
  const cases: Array<[string, number, number, boolean]> = [
    ['sent at its instant: on time', 0, 3 * HOUR, false],
    ['sent 2 h after its instant, armed before it: late', 2 * HOUR, 3 * HOUR, true],
    ['owed by a plan made after its instant (an alert armed late), sent at once: on time', HOUR, 0, false],
  ];
  for (const [name, dueAgo, plannedAgo, late] of cases) {
    it(name, async () => {
      const { snapshot, key } = await dossier(
        `grace-${cases.findIndex(([n]) => n === name)}`,
        dueAgo,
        plannedAgo,
      );
      missed.length = 0;
      assert.equal(await workflowDelivers(snapshot, key), late);
      assert.deepEqual(missed, late ? ['overdue:sent_late'] : []);
    });
  }
});

describe('one late reminder, one count', () => {
  it('two audits find it waiting in its busy run, then the run stores it: missed once', async () => {
    const { snapshot, key } = await dossier('count-once', 3 * HOUR, 4 * HOUR);
    plan = { sent: [], pending: [{ idempotencyKey: key, at: snapshot.dueAt }], queued: 1 };
    afterQuery = async () => {};
    missed.length = 0;
    findings.length = 0;
    await audit();
    await audit();
    assert.equal(await workflowDelivers(snapshot, key), true);
    assert.deepEqual(missed, ['overdue:sent_late']);
    assert.deepEqual(findings, ['overdue:late', 'overdue:late'], 'each audit run reports what it saw');
  });
});

describe('a complete the run applies after answering the audit', () => {
  it('wins over the restore of a reminder the run kept armed (stuck)', async () => {
    const { snapshot, key } = await dossier('stuck-completed', 3 * HOUR, 4 * HOUR);
    plan = { sent: [], pending: [{ idempotencyKey: key, at: snapshot.dueAt }], queued: 0 };
    afterQuery = async () => {
      await inActivity(createDossierActivities(deps()).saveDossierChanges, {
        dossier: { ...snapshot, status: 'done' },
        fields: ['status'],
        eventId: 'complete',
      });
    };
    missed.length = 0;
    const progress = await audit();
    afterQuery = async () => {};
    assert.equal(progress.restored, 0);
    assert.deepEqual(await db.query('select id from notifications where idempotency_key = $1', [key]), []);
    assert.deepEqual(missed, []);
  });

  it('while an open dossier kept armed a whole period is restored, once, marked late', async () => {
    const { snapshot, key } = await dossier('stuck-open', 3 * HOUR, 4 * HOUR);
    plan = { sent: [], pending: [{ idempotencyKey: key, at: snapshot.dueAt }], queued: 0 };
    missed.length = 0;
    const progress = await audit();
    assert.equal(progress.restored, 1);
    const rows = await db.query<{ data: { late?: boolean } }>(
      'select data from notifications where idempotency_key = $1',
      [key],
    );
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.data.late, true);
    assert.deepEqual(missed, ['overdue:restored']);
  });

  it('wins when it is an assign: the restore never goes to the former owner', async () => {
    await otherUser();
    const { snapshot, key } = await dossier('stuck-assigned', 3 * HOUR, 4 * HOUR);
    plan = { sent: [], pending: [{ idempotencyKey: key, at: snapshot.dueAt }], queued: 0 };
    afterQuery = async () => {
      await inActivity(createDossierActivities(deps()).saveDossierChanges, {
        dossier: { ...snapshot, ownerId: OTHER },
        fields: ['ownerId'],
        eventId: 'assign',
      });
    };
    const progress = await audit();
    afterQuery = async () => {};
    assert.equal(progress.restored, 0);
    assert.deepEqual(await db.query('select id from notifications where idempotency_key = $1', [key]), []);
  });

  it('restores a deadline NormX stored with microseconds (the snapshot reads milliseconds)', async () => {
    const { snapshot, key } = await dossier('stuck-micro', 3 * HOUR, 4 * HOUR);
    // What `now() + interval '3 days'` in NormX's own SQL gives: the same millisecond, plus 400 µs.
    await db.query(
      `update dossiers set due_at = date_trunc('milliseconds', due_at) + interval '400 microseconds' where id = $1`,
      ['stuck-micro'],
    );
    plan = { sent: [], pending: [{ idempotencyKey: key, at: snapshot.dueAt }], queued: 0 };
    const progress = await audit();
    assert.equal(progress.restored, 1, 'an open dossier, its deadline unchanged: restored');
    assert.equal(
      (await db.query('select id from notifications where idempotency_key = $1', [key])).length,
      1,
    );
  });
});

describe('a new owner in the same zone', () => {
  it('re-plans nothing: a reminder stored 2 h late after it is still marked late', async () => {
    await otherUser();
    await inActivity(createDossierActivities(deps()).saveUserProfile, {
      userId: OWNER,
      profile: { timezone: 'Europe/Paris' },
    });
    const { snapshot, key } = await dossier('assign-late', 2 * HOUR, 3 * HOUR);
    // What the run does first when it wakes after an outage: the calls queued meanwhile (an assign).
    await inActivity(createDossierActivities(deps()).saveDossierChanges, {
      dossier: { ...snapshot, ownerId: OTHER },
      fields: ['ownerId'],
      eventId: 'assign',
    });
    missed.length = 0;
    await inActivity(createDossierActivities(deps()).deliverNotification, {
      idempotencyKey: key,
      userId: OTHER,
      type: 'new_alert' as const,
      kind: 'overdue',
      dossier: { ...snapshot, ownerId: OTHER },
      scheduledFor: snapshot.dueAt,
    });
    const [row] = await db.query<{ data: { late?: boolean } }>(
      'select data from notifications where idempotency_key = $1',
      [key],
    );
    assert.equal(row!.data.late, true);
    assert.deepEqual(missed, ['overdue:sent_late']);
  });
});
