import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SentIds, type IdRange } from '../../server/ws/sent-ids.js';

/** Which ids a socket was sent, step by step: live ids, resumes and catch-ups. */

type Step =
  | { live: number; accepted: boolean }
  | { resume: IdRange | undefined }
  | { caughtUpTo: number }
  | { last: number };

function play(steps: Step[]): void {
  const sent = new SentIds();
  steps.forEach((step, index) => {
    const at = `step ${index + 1}: ${JSON.stringify(step, (_, value: unknown) => (typeof value === 'bigint' ? String(value) : value))}`;
    if ('live' in step) assert.equal(sent.acceptLive(BigInt(step.live)), step.accepted, at);
    else if ('resume' in step) assert.deepEqual(sent.startResume(), step.resume, at);
    else if ('caughtUpTo' in step) sent.caughtUpTo(BigInt(step.caughtUpTo));
    else assert.equal(sent.lastSent, BigInt(step.last), at);
  });
}

const range = (from: number, to: number): IdRange => ({ from: BigInt(from), to: BigInt(to) });

describe('sent ids', () => {
  const cases: Array<{ name: string; steps: Step[] }> = [
    {
      name: 'nothing sent yet',
      steps: [{ last: 0 }, { resume: undefined }],
    },
    {
      name: 'live ids only go up: a repeat or an older id is refused',
      steps: [
        { live: 1, accepted: true },
        { live: 2, accepted: true },
        { live: 2, accepted: false },
        { live: 1, accepted: false },
        { live: 5, accepted: true },
        { last: 5 },
      ],
    },
    {
      name: 'the first resume skips what went out live before it',
      steps: [{ live: 7, accepted: true }, { live: 8, accepted: true }, { resume: range(7, 8) }],
    },
    {
      name: 'a later resume skips nothing, even after more live ids',
      steps: [
        { live: 7, accepted: true },
        { resume: range(7, 7) },
        { live: 9, accepted: true },
        { resume: undefined },
      ],
    },
    {
      name: 'ids first sent live after a resume are no range to skip',
      steps: [{ resume: undefined }, { live: 3, accepted: true }, { resume: undefined }],
    },
    {
      name: 'a catch-up makes the ids it read duplicates for the live path',
      steps: [{ caughtUpTo: 10 }, { live: 10, accepted: false }, { live: 11, accepted: true }, { last: 11 }],
    },
    {
      name: 'a catch-up that read less than was sent live moves nothing back',
      steps: [{ live: 20, accepted: true }, { caughtUpTo: 12 }, { last: 20 }],
    },
  ];
  for (const { name, steps } of cases) it(name, () => play(steps));
});
