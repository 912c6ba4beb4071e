import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { checkLives } from './check-lives.js';
import type { LifeAction } from './life.js';
import { lifeArbitrary } from './life-generator.js';
import { expectedDeliveries } from './reference-model.js';

/**
 * The tools of the model tests, checked themselves: the random lives are well formed (dates in
 * range, steps in order, outages apart, owners known, a repeated eventId a true retry), and
 * `checkLives` passes a runner that is the model and fails, with replay instructions, one that
 * drops a delivery.
 */

describe('random lives', () => {
  it('are well formed', () => {
    fc.assert(
      fc.property(lifeArbitrary(), (life) => {
        assert.match(life.dossierId, /^[A-Za-z0-9._-]+$/);
        assert.ok(life.start >= Date.UTC(2025, 11, 1) && life.start < Date.UTC(2029, 1, 1));
        assert.ok(life.end >= life.start && life.end <= life.start + 20 * 86_400_000);
        life.steps.forEach((s, i) =>
          assert.ok(s.at >= life.start && (i === 0 || s.at >= life.steps[i - 1]!.at)),
        );
        life.outages.forEach((o, i) =>
          assert.ok(o.from < o.to && (i === 0 || o.from > life.outages[i - 1]!.to)),
        );
        const byEventId = new Map<string, LifeAction>();
        for (const { action } of life.steps) {
          const owner = action.type === 'ownerZone' || action.type === 'upsert' || action.type === 'assign';
          if (owner) assert.ok(action.ownerId in life.owners);
          if ('deadline' in action && action.deadline.dueDate !== undefined) {
            assert.match(action.deadline.dueDate, /^20\d\d-\d\d-\d\d$/);
          }
          if (!('eventId' in action)) continue;
          const first = byEventId.get(action.eventId);
          if (first === undefined) byEventId.set(action.eventId, action);
          else assert.deepEqual(action, first, 'a repeated eventId is a retry of the same call');
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('checkLives', () => {
  it('passes with the model itself as the runner', async () => {
    await checkLives(async (life) => expectedDeliveries(life), { numRuns: 300 });
  });

  it('fails, with replay instructions, for a runner that drops the last delivery', async () => {
    const logged: string[] = [];
    await assert.rejects(
      checkLives(async (life) => expectedDeliveries(life).slice(0, -1), {
        numRuns: 100,
        seed: 42,
        log: (m) => logged.push(m),
      }),
      (error: Error) =>
        /MODEL_SEED=\d+ MODEL_PATH=\S+/.test(error.message) && /diff:\n {2}- /.test(error.message),
    );
    assert.match(logged.join('\n'), /MODEL_SEED=\d+/);
  });
});
