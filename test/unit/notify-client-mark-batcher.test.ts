import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Backoff } from '../../web/client/backoff.js';
import { MARK_ACK_TIMEOUT_MS, MarkBatcher, type MarkFrame, type Timers } from '../../web/client/marks.js';

/**
 * The client library's marks (web/client/marks.ts), on a clock of its own:
 * one batch in flight at a time, at most 500 ids each, kept until acknowledged; sent again when
 * refused for a passing reason (after a growing delay), when lost with the socket, or when no
 * answer comes; reported when refused for good.
 */

type Step =
  | ['add', string[]]
  | ['addAll']
  | ['open']
  | ['close']
  /** The socket is gone: the batch in flight goes back. */
  | ['lost']
  | ['ack', string]
  | ['refused', string, string | undefined]
  /** The pending timer runs; its delay is checked. */
  | ['timer', number];

/** A frame, short: `read#1:1,2`, `all#2`. */
const short = (frame: MarkFrame): string =>
  frame.type === 'mark_all_read'
    ? `all#${frame.ref}`
    : `read#${frame.ref}:${frame.ids.length > 3 ? `${frame.ids.length} ids` : frame.ids.join(',')}`;

const ids = (from: number, count: number): string[] =>
  Array.from({ length: count }, (_, i) => String(from + i));

const table: Array<{ name: string; steps: Step[]; sent: string[]; failed?: string[] }> = [
  {
    name: 'marks made offline go as one batch once the socket opens',
    steps: [['close'], ['add', ['1', '2']], ['add', ['3', '2']], ['open']],
    sent: ['read#1:1,2,3'],
  },
  {
    name: 'one batch in flight at a time, 500 ids at most',
    steps: [
      ['add', ids(1, 1200)],
      ['ack', '1'],
      ['ack', '2'],
      ['ack', '3'],
    ],
    sent: ['read#1:500 ids', 'read#2:500 ids', 'read#3:200 ids'],
  },
  {
    name: 'marks made while one is in flight wait for its answer',
    steps: [
      ['add', ['1']],
      ['add', ['2']],
      ['ack', '1'],
    ],
    sent: ['read#1:1', 'read#2:2'],
  },
  {
    name: 'mark all read replaces the ids waiting',
    steps: [['close'], ['add', ['1', '2']], ['addAll'], ['open'], ['ack', '1']],
    sent: ['all#1'],
  },
  {
    name: 'an answer for another batch is not ours',
    steps: [
      ['add', ['1']],
      ['ack', '9'],
      ['add', ['2']],
    ],
    sent: ['read#1:1'],
  },
  {
    name: 'rate_limited without ref: sent again after a growing delay, which an ack resets',
    steps: [
      ['add', ['1']],
      ['refused', 'rate_limited', undefined],
      ['timer', 100],
      ['refused', 'rate_limited', undefined],
      ['timer', 200],
      ['ack', '3'],
      ['add', ['2']],
      ['refused', 'rate_limited', '4'],
      ['timer', 100],
    ],
    sent: ['read#1:1', 'read#2:1', 'read#3:1', 'read#4:2', 'read#5:2'],
  },
  {
    name: 'another error without ref is not about the batch',
    steps: [
      ['add', ['1']],
      ['refused', 'internal', undefined],
      ['ack', '1'],
    ],
    sent: ['read#1:1'],
  },
  {
    name: 'refused for good: reported, and the next batch goes',
    steps: [
      ['add', ['1']],
      ['add', ['2']],
      ['refused', 'validation_failed', '1'],
    ],
    sent: ['read#1:1', 'read#2:2'],
    failed: ['Marks refused (validation_failed): 1'],
  },
  {
    name: 'a mark all refused for good is reported as all',
    steps: [['addAll'], ['refused', 'forbidden', '1']],
    sent: ['all#1'],
    failed: ['Marks refused (forbidden): all'],
  },
  {
    name: 'lost with the socket: sent again on the next one',
    steps: [['add', ['1']], ['close'], ['lost'], ['open'], ['ack', '2']],
    sent: ['read#1:1', 'read#2:1'],
  },
  {
    name: 'no answer within the deadline: sent again',
    steps: [
      ['add', ['1']],
      ['timer', MARK_ACK_TIMEOUT_MS],
      ['ack', '2'],
    ],
    sent: ['read#1:1', 'read#2:1'],
  },
];

describe('client marks batcher', () => {
  for (const { name, steps, sent, failed = [] } of table) {
    it(name, () => {
      const frames: string[] = [];
      const failures: string[] = [];
      const pending = new Map<number, { run: () => void; ms: number }>();
      let handles = 0;
      const timers: Timers = {
        setTimeout: (run, ms) => {
          handles += 1;
          pending.set(handles, { run, ms });
          return handles;
        },
        clearTimeout: (handle) => pending.delete(handle as number),
      };
      let open = true;
      const marks = new MarkBatcher({
        canSend: () => open,
        send: (frame) => frames.push(short(frame)),
        fail: (message) => failures.push(message),
        backoff: new Backoff({ initialMs: 100, maxMs: 1000 }, () => 1),
        timers,
      });
      steps.forEach((step, index) => {
        const at = `step ${index + 1}: ${step.join(' ')}`;
        if (step[0] === 'add') marks.add(step[1]);
        else if (step[0] === 'addAll') marks.addAll();
        else if (step[0] === 'open') {
          open = true;
          marks.flush();
        } else if (step[0] === 'close') open = false;
        else if (step[0] === 'lost') marks.requeue();
        else if (step[0] === 'ack') marks.acknowledged(step[1]);
        else if (step[0] === 'refused') marks.refused(step[1], step[2]);
        else {
          assert.equal(pending.size, 1, `${at}: one timer pending`);
          const [handle, timer] = [...pending][0]!;
          pending.delete(handle);
          assert.equal(timer.ms, step[1], at);
          timer.run();
        }
      });
      assert.deepEqual(frames, sent);
      assert.deepEqual(failures, failed);
      marks.stop();
      assert.equal(pending.size, 0, 'a timer left behind after stop');
    });
  }
});
