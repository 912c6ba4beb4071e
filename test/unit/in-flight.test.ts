import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InFlight } from '../../server/in-flight.js';

/** server/in-flight.ts: what a stopping server waits for, and what it refuses. */
describe('InFlight', () => {
  // [steps, entered (true/false per enter), idle at the end, stopping at the end]
  const cases: Array<[string, Array<'enter' | 'leave' | 'close'>, boolean[], boolean, boolean]> = [
    ['nothing yet', [], [], true, false],
    ['one running', ['enter'], [true], false, false],
    ['one done', ['enter', 'leave'], [true], true, false],
    [
      'closed while one runs: it still counts, a new one is refused',
      ['enter', 'close', 'enter'],
      [true, false],
      false,
      true,
    ],
    ['closed, then the running one ends: idle', ['enter', 'close', 'leave'], [true], true, true],
    ['closed before anything: idle and refusing', ['close', 'enter'], [false], true, true],
  ];
  for (const [name, steps, entered, idle, stopping] of cases) {
    it(name, () => {
      const inFlight = new InFlight();
      const answers: boolean[] = [];
      for (const step of steps) {
        if (step === 'enter') answers.push(inFlight.enter());
        else if (step === 'leave') inFlight.leave();
        else inFlight.close();
      }
      assert.deepEqual(answers, entered);
      assert.equal(inFlight.idle, idle);
      assert.equal(inFlight.stopping, stopping);
    });
  }
});
