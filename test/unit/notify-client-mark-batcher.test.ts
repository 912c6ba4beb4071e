import { describe, it } from 'node:test';
import { InboxMarkQueue, type InboxMark, type InboxMarkFrame } from '../../web/client/inbox-marks.js';
import { MARK_ACK_TIMEOUT_MS, MarkQueue, RETRY_MARK_CODES } from '../../web/client/mark-queue.js';
import { MarkBatcher, type MarkFrame } from '../../web/client/marks.js';
import { runMarkQueue, type MarkQueueCase, type QueueStep } from '../support/mark-queue-harness.js';

/**
 * The client library's marks on a clock of their own (test/support/mark-queue-harness.ts). The
 * generic queue (web/client/mark-queue.ts): one mark in flight at a time, kept until acknowledged
 * by its ref; sent again when refused for a passing reason (after a growing delay), when lost with
 * the socket, or when no answer comes; reported when refused for good. Its two kinds: read marks
 * (marks.ts: at most 500 ids a batch, or all) and inbox marks (inbox-marks.ts: archive, unarchive
 * and seen, in order, neighbours merged).
 */

const ids = (from: number, count: number): string[] =>
  Array.from({ length: count }, (_, i) => String(from + i));
const idList = (list: string[]): string => (list.length > 3 ? `${list.length} ids` : list.join(','));

/** The smallest kind of mark: letters, first in first out, refs `x1`, `x2`… */
class Letters extends MarkQueue<string, string> {
  private readonly waiting: string[] = [];
  add(mark: string): void {
    this.waiting.push(mark);
    this.flush();
  }
  protected take = (): string | undefined => this.waiting.shift();
  protected putBack = (mark: string): void => void this.waiting.unshift(mark);
  protected frameOf = (mark: string, ref: string): string => `${mark}#${ref}`;
  protected describe = (mark: string): string => mark;
}

type LetterStep = ['add', string];

/** Steps written short: `add a, refused internal x1, refused rate_limited, timer 100, lost`. */
const parse = (text: string): Array<LetterStep | QueueStep> =>
  text.split(', ').map((step): LetterStep | QueueStep => {
    const [what, first, second] = step.split(' ') as [string, string, string | undefined];
    if (what === 'timer') return ['timer', Number(first)];
    if (what === 'refused') return ['refused', first, second];
    if (what === 'add' || what === 'ack') return [what, first];
    return [what as 'open' | 'close' | 'lost'];
  });

const letters: Array<Omit<MarkQueueCase<LetterStep>, 'steps'> & { steps: string }> = [
  {
    name: 'one mark in flight at a time: each ack sends the next',
    steps: 'add a, add b, add c, ack x1, ack x2',
    sent: ['a#x1', 'b#x2', 'c#x3'],
  },
  {
    name: "an ack naming another ref (another queue's) is not ours",
    steps: 'add a, add b, ack 1, ack x9',
    sent: ['a#x1'],
  },
  {
    name: 'nothing goes while the socket is closed; the waiting marks go in turn once it opens',
    steps: 'close, add a, add b, open, ack x1',
    sent: ['a#x1', 'b#x2'],
  },
  ...RETRY_MARK_CODES.map((code) => ({
    name: `refused with ${code}: sent again after the back-off, first in line`,
    steps: `add a, add b, refused ${code} x1, timer 100`,
    sent: ['a#x1', 'a#x2'],
  })),
  ...['validation_failed', 'bad_request', 'forbidden', 'not_found', 'slow_consumer', 'mystery'].map(
    (code) => ({
      name: `refused with ${code}: reported for good, and the next one goes`,
      steps: `add a, add b, refused ${code} x1`,
      sent: ['a#x1', 'b#x2'],
      failed: [`Marks refused (${code}): a`],
    }),
  ),
  {
    name: 'the back-off grows with each refusal, and an ack resets it',
    steps:
      'add a, refused server_busy x1, timer 100, refused internal x2, timer 200, refused unavailable x3, ' +
      'timer 400, ack x4, add b, refused shutting_down x5, timer 100',
    sent: ['a#x1', 'a#x2', 'a#x3', 'a#x4', 'b#x5', 'b#x6'],
  },
  {
    name: 'without a ref, rate_limited is about the mark in flight; another code is not',
    steps: 'add a, refused internal, refused rate_limited, timer 100',
    sent: ['a#x1', 'a#x2'],
  },
  {
    name: 'a refusal naming another ref is not ours',
    steps: 'add a, refused validation_failed x9, refused validation_failed 1, ack x1',
    sent: ['a#x1'],
  },
  {
    name: 'nothing goes while the back-off runs, not even when the socket opens',
    steps: 'add a, refused internal x1, add b, open, timer 100, ack x2',
    sent: ['a#x1', 'a#x2', 'b#x3'],
  },
  {
    name: 'a socket lost during the back-off: the mark goes as soon as the next one opens',
    steps: 'add a, refused internal x1, close, lost, open',
    sent: ['a#x1', 'a#x2'],
  },
  {
    name: 'lost with the socket: first in line on the next one',
    steps: 'add a, add b, close, lost, open, ack x2',
    sent: ['a#x1', 'a#x2', 'b#x3'],
  },
  {
    name: 'no answer within the deadline: sent again, and the late answer is not ours',
    steps: `add a, add b, timer ${MARK_ACK_TIMEOUT_MS}, ack x1, ack x2`,
    sent: ['a#x1', 'a#x2', 'b#x3'],
  },
];

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

describe('client mark queue (generic)', () => {
  for (const row of letters)
    it(row.name, () =>
      runMarkQueue(
        { ...row, steps: parse(row.steps) },
        (options) => new Letters(options, 'x'),
        String,
        (queue, [, mark]: LetterStep) => queue.add(mark),
      ),
    );
});

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
