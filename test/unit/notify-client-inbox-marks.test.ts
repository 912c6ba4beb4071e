import { describe, it } from 'node:test';
import { InboxMarkQueue, type InboxMark, type InboxMarkFrame } from '../../web/client/inbox-marks.js';
import { idList, ids, runMarkQueue, type MarkQueueCase } from '../support/mark-queue-harness.js';

/**
 * The client library's inbox marks (web/client/inbox-marks.ts: archive, unarchive and seen) on the
 * generic queue's clock (test/support/mark-queue-harness.ts): in order, neighbours of the same
 * type merged up to 500 ids, a seen mark keeping the highest id, refs `i1`, `i2`…
 */

type InboxStep = ['add', InboxMark];
const archive = (...list: string[]): InboxStep => ['add', { type: 'archive', ids: list }];
const unarchive = (...list: string[]): InboxStep => ['add', { type: 'unarchive', ids: list }];
const seen = (lastId: string): InboxStep => ['add', { type: 'mark_seen', lastId }];

/** A frame, short: `archive#i1:1,2`, `seen#i2:7`. */
const inboxShort = (frame: InboxMarkFrame): string =>
  frame.type === 'mark_seen'
    ? `seen#${frame.ref}:${frame.lastId}`
    : `${frame.type}#${frame.ref}:${idList(frame.ids)}`;

const inbox: Array<MarkQueueCase<InboxStep>> = [
  {
    name: 'neighbours of the same type merge, in the order made',
    steps: [
      ['close'],
      archive('1', '2'),
      archive('3'),
      unarchive('3'),
      archive('4'),
      ['open'],
      ['ack', 'i1'],
      ['ack', 'i2'],
    ],
    sent: ['archive#i1:1,2,3', 'unarchive#i2:3', 'archive#i3:4'],
  },
  {
    name: 'at most 500 ids a mark: more are split, and a merge stops at 500',
    steps: [
      ['close'],
      archive(...ids(1, 1200)),
      archive(...ids(2000, 300)),
      ['open'],
      ['ack', 'i1'],
      ['ack', 'i2'],
      ['ack', 'i3'],
    ],
    sent: ['archive#i1:500 ids', 'archive#i2:500 ids', 'archive#i3:500 ids'],
  },
  {
    name: 'a seen mark replaces a waiting one, keeping the highest id and its place',
    steps: [['close'], seen('5'), archive('1'), seen('9'), seen('7'), ['open'], ['ack', 'i1'], ['ack', 'i2']],
    sent: ['seen#i1:9', 'archive#i2:1'],
  },
  {
    name: "the mark in flight takes no more ids, and a read mark's ack is not its",
    steps: [archive('1'), archive('2'), ['ack', '1'], ['ack', 'i1']],
    sent: ['archive#i1:1', 'archive#i2:2'],
  },
  {
    name: 'refused for good: reported with its type and ids, or its seen id',
    steps: [
      archive('1', '2'),
      seen('7'),
      unarchive('3'),
      ['refused', 'forbidden', 'i1'],
      ['refused', 'validation_failed', 'i2'],
    ],
    sent: ['archive#i1:1,2', 'seen#i2:7', 'unarchive#i3:3'],
    failed: ['Marks refused (forbidden): archive 1, 2', 'Marks refused (validation_failed): mark_seen 7'],
  },
  {
    name: 'refused for a passing reason: again after the back-off, before the marks made since',
    steps: [archive('1'), unarchive('1'), ['refused', 'server_busy', 'i1'], ['timer', 100], ['ack', 'i2']],
    sent: ['archive#i1:1', 'archive#i2:1', 'unarchive#i3:1'],
  },
  {
    name: 'lost with the socket: again first on the next one',
    steps: [archive('1'), unarchive('1'), ['close'], ['lost'], ['open'], ['ack', 'i2']],
    sent: ['archive#i1:1', 'archive#i2:1', 'unarchive#i3:1'],
  },
];

describe('client inbox mark queue', () => {
  for (const row of inbox)
    it(row.name, () =>
      runMarkQueue(
        row,
        (options) => new InboxMarkQueue(options),
        inboxShort,
        (queue, [, mark]: InboxStep) => queue.add(mark),
      ),
    );
});
