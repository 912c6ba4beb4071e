import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LiveEvent } from '../../server/hub/notification-hub.js';
import { LiveGate } from '../../server/ws/live-gate.js';

/** When a socket's live events wait, and what comes out when the gate opens. */

const event = (id: number, bytes = 10): LiveEvent => ({
  id: String(id),
  seq: BigInt(id),
  frame: Buffer.alloc(bytes),
});

type Step =
  | 'count'
  | 'startCatchUp'
  | 'endCatchUp'
  | { hold: number[]; bytes?: number; kept: boolean }
  | { release: number[] }
  | { shut: boolean; catchingUp?: boolean };

function play(steps: Step[], maxHeldBytes = 100): void {
  const gate = new LiveGate(maxHeldBytes);
  steps.forEach((step, index) => {
    const at = `step ${index + 1}: ${JSON.stringify(step)}`;
    if (step === 'count') gate.countWentOut();
    else if (step === 'startCatchUp') gate.startCatchUp();
    else if (step === 'endCatchUp') gate.endCatchUp();
    else if ('hold' in step)
      assert.equal(gate.hold(step.hold.map((id) => event(id, step.bytes))), step.kept, at);
    else if ('release' in step)
      assert.deepEqual(
        gate.release().map((held) => Number((held as { seq: bigint }).seq)),
        step.release,
        at,
      );
    else {
      assert.equal(gate.shut, step.shut, at);
      if (step.catchingUp !== undefined) assert.equal(gate.catchingUp, step.catchingUp, at);
    }
  });
}

describe('live gate', () => {
  const cases: Array<{ name: string; steps: Step[]; maxHeldBytes?: number }> = [
    {
      name: 'shut until the unread count went out',
      steps: [{ shut: true, catchingUp: false }, 'count', { shut: false }],
    },
    {
      name: 'what arrives before the count is released after it, in order',
      steps: [
        { hold: [1, 2], kept: true },
        { hold: [3], kept: true },
        'count',
        { release: [1, 2, 3] },
        { release: [] },
      ],
    },
    {
      name: 'nothing is released before the count, even when a catch-up ends (it stays held)',
      steps: [
        'startCatchUp',
        { hold: [1], kept: true },
        'endCatchUp',
        { release: [] },
        'count',
        { release: [1] },
      ],
    },
    {
      name: 'shut during a catch-up after the count',
      steps: ['count', 'startCatchUp', { shut: true, catchingUp: true }, 'endCatchUp', { shut: false }],
    },
    {
      name: 'held up to the bound in bytes',
      maxHeldBytes: 100,
      steps: [{ hold: [1, 2], bytes: 50, kept: true }, 'count', { release: [1, 2] }],
    },
    {
      name: 'past the bound everything held is dropped (the socket is cut off)',
      maxHeldBytes: 100,
      steps: [
        { hold: [1, 2], bytes: 50, kept: true },
        { hold: [3], bytes: 1, kept: false },
        'count',
        { release: [] },
      ],
    },
    {
      name: 'releasing empties the count of held bytes',
      maxHeldBytes: 100,
      steps: [
        'count',
        { hold: [1], bytes: 90, kept: true },
        { release: [1] },
        { hold: [2], bytes: 90, kept: true },
      ],
    },
  ];
  for (const { name, steps, maxHeldBytes } of cases) it(name, () => play(steps, maxHeldBytes));

  it('counts string frames in bytes, not characters', () => {
    const gate = new LiveGate(5);
    assert.equal(
      gate.hold([{ counts: { unread: 1, unseen: 0, archived: 0, lastSeenId: '0' }, frame: 'ééé' }]),
      false,
      '6 bytes in 3 characters',
    );
  });
});
