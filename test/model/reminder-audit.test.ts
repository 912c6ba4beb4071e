import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { deadlineOf } from '../../domain/deadline.js';
import { owedReminders, type OwedReminder } from '../../domain/reminder-audit.js';
import { reminderKey } from '../../domain/idempotency-keys.js';
import { deadlineKey } from '../../domain/reminder-plan.js';
import { DEFAULT_POLICY, runLifeOnEngine, type MemoryDatabase } from './engine-runner.js';
import { lifeArbitrary } from './life-generator.js';

/**
 * The reminder audit against the engine, on the random lives of the model-based test (calls,
 * zone changes, reassignments, reopenings, worker outages): whenever the engine has done what
 * was due, the audit, reading only the rows, must owe nothing the engine did not store (it would
 * send a reminder the rules skipped), and it must owe most of what the engine stored under the
 * current plan (an audit that owes nothing would pass the first check). Seeded; FC_SEED and
 * MODEL_RUNS explore others.
 */

/** What the audit owes at `clock`, reading the model's rows as the activity reads the tables. */
function owedAt(db: MemoryDatabase, dossierId: string, clock: number, start: number): OwedReminder[] {
  const row = db.dossier(dossierId);
  const stamp = db.stamps.get(dossierId);
  if (!row || !stamp) return [];
  const owner = {
    timeZone: db.context(row.ownerId).timeZone,
    zoneChangedAt: db.userZoneChangedAt.get(row.ownerId) ?? 0,
  };
  return owedReminders(
    { id: row.id, status: row.status, deadline: deadlineOf(row), ...stamp },
    owner,
    // The model's save and plan share one clock: no margin; no grace either, the engine is done.
    // The closed days as the activities give them: the model's database computes them the same way.
    {
      policy: DEFAULT_POLICY,
      window: { from: start, to: clock + 1 },
      planMarginMs: 0,
      calendarIn: (timeZone) => db.calendarIn(timeZone, deadlineOf(row)),
    },
  );
}

describe('reminder audit against the engine (model lives)', () => {
  it('never owes a reminder the engine did not store, and owes what it stored under the current plan', async () => {
    const seed = process.env.FC_SEED ? Number(process.env.FC_SEED) : 20261202;
    let covered = 0;
    let storedUnderPlan = 0;
    let owedChecks = 0;
    await fc.assert(
      fc.asyncProperty(lifeArbitrary(), async (life) => {
        const sentAt = new Map<string, number>();
        await runLifeOnEngine(life, {
          onSettled: (clock, db) => {
            const owed = owedAt(db, life.dossierId, clock, life.start);
            owedChecks += owed.length;
            for (const reminder of owed) {
              assert.ok(
                db.has(reminder.idempotencyKey),
                `the audit owes ${reminder.idempotencyKey} (due ${new Date(reminder.owedFrom).toISOString()}) at ${new Date(clock).toISOString()}, which the engine never stored\nlife: ${JSON.stringify(life)}`,
              );
            }
            // Coverage: the reminders of the current deadline stored since its plan, while open.
            const row = db.dossier(life.dossierId);
            const stamp = db.stamps.get(life.dossierId);
            if (!row || !stamp || row.status !== 'open') return;
            const owedKeys = new Set(owed.map((reminder) => reminder.idempotencyKey));
            for (const kind of ['j-7', 'j-1', 'j-0', 'overdue', 'overdue_critical']) {
              const key = reminderKey(row.id, deadlineKey(deadlineOf(row)), kind);
              if (!db.has(key)) continue;
              if (!sentAt.has(key)) sentAt.set(key, clock);
              if (sentAt.get(key)! < stamp.plannedAt) continue;
              storedUnderPlan += 1;
              if (owedKeys.has(key)) covered += 1;
            }
          },
        });
      }),
      { numRuns: Number(process.env.MODEL_RUNS ?? 1500), seed },
    );
    assert.ok(owedChecks > 0, 'the audit owed something in some life');
    // Zone changes that move a sent reminder later make a few legitimately not owed yet.
    assert.ok(
      covered >= 0.9 * storedUnderPlan,
      `the audit owes ${covered} of the ${storedUnderPlan} reminders stored under the current plan`,
    );
  });
});
