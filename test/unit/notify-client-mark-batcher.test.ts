import { describe, it } from 'node:test';
import { MARK_ACK_TIMEOUT_MS } from '../../web/client/mark-queue.js';
import { MarkBatcher, type MarkFrame } from '../../web/client/marks.js';
import { idList, ids, runMarkQueue, type MarkQueueCase } from '../support/mark-queue-harness.js';

/**
 * The client library's read marks (web/client/marks.ts) on the generic queue's clock
 * (test/support/mark-queue-harness.ts): at most 500 ids a batch, or all, marks made offline sent
 * once the socket opens, refs `1`, `2`…
 */

type ReadStep = ['add', string[]] | ['addAll'];

/** A frame, short: `read#1:1,2`, `all#2`. */
const short = (frame: MarkFrame): string =>
  frame.type === 'mark_all_read' ? `all#${frame.ref}` : `read#${frame.ref}:${idList(frame.ids)}`;

const reads: Array<MarkQueueCase<ReadStep>> = [
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
  for (const row of reads)
    it(row.name, () =>
      runMarkQueue(
        row,
        (options) => new MarkBatcher(options),
        short,
        (marks, step: ReadStep) => (step[0] === 'add' ? marks.add(step[1]) : marks.addAll()),
      ),
    );
});
