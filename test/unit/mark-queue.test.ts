import { describe, it } from 'node:test';
import { MARK_ACK_TIMEOUT_MS, MarkQueue, RETRY_MARK_CODES } from '../../web/client/mark-queue.js';
import { runMarkQueue, type MarkQueueCase, type QueueStep } from '../support/mark-queue-harness.js';

/**
 * The client library's generic mark queue (web/client/mark-queue.ts) on a clock of its own
 * (test/support/mark-queue-harness.ts), with the smallest kind of mark: one mark in flight at a
 * time, kept until acknowledged by its ref; sent again when refused for a passing reason (after a
 * growing delay), when lost with the socket, or when no answer comes; reported when refused for
 * good. Its two kinds: notify-client-mark-batcher.test.ts and notify-client-inbox-marks.test.ts.
 */

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
