import assert from 'node:assert/strict';
import { Backoff } from '../../web/client/backoff.js';
import type { MarkQueue, MarkQueueOptions, Timers } from '../../web/client/mark-queue.js';

/**
 * The client's mark queues (web/client/mark-queue.ts and its kinds) on a clock of their own, for
 * table-driven unit tests: each step of a table is one of the queue's events, every frame sent is
 * written down short, every report kept, and each timer fired only by a `timer` step that names
 * its delay. The back-off starts at 100 ms and doubles up to 1 s (no jitter).
 */

/** The events every mark queue answers; a kind's own steps (its `add`s) are the test's. */
export type QueueStep =
  | ['open']
  | ['close']
  /** The socket is gone: the mark in flight goes back. */
  | ['lost']
  | ['ack', string]
  | ['refused', string, string | undefined]
  /** The one pending timer runs; its delay is checked. */
  | ['timer', number];

/** What the harness calls on a queue (a kind's own methods are called by the test's `own`). */
type QueueEvents = Pick<
  MarkQueue<unknown, unknown>,
  'flush' | 'requeue' | 'acknowledged' | 'refused' | 'stop'
>;

/** A row of a table: its steps, the frames they send (short) and the reports they make. */
export interface MarkQueueCase<Step> {
  name: string;
  steps: ReadonlyArray<Step | QueueStep>;
  sent: string[];
  failed?: string[];
}

/**
 * Runs a row's steps on the queue `create` makes of the harness's options: the queue's own steps
 * through `own`, the others here. Checks the frames sent and the reports, then that `stop` leaves
 * no timer.
 */
export function runMarkQueue<Frame, Queue extends QueueEvents, Step extends unknown[]>(
  { steps, sent, failed = [] }: MarkQueueCase<Step>,
  create: (options: MarkQueueOptions<Frame>) => Queue,
  short: (frame: Frame) => string,
  own: (queue: Queue, step: Step) => void,
): void {
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
  const queue = create({
    canSend: () => open,
    send: (frame) => frames.push(short(frame)),
    fail: (message) => failures.push(message),
    backoff: new Backoff({ initialMs: 100, maxMs: 1000 }, () => 1),
    timers,
  });
  steps.forEach((step, index) => {
    const at = `step ${index + 1}: ${step.join(' ')}`;
    const common = step as QueueStep;
    if (common[0] === 'open') {
      open = true;
      queue.flush();
    } else if (common[0] === 'close') open = false;
    else if (common[0] === 'lost') queue.requeue();
    else if (common[0] === 'ack') queue.acknowledged(common[1]);
    else if (common[0] === 'refused') queue.refused(common[1], common[2]);
    else if (common[0] === 'timer') {
      assert.equal(pending.size, 1, `${at}: one timer pending`);
      const [handle, timer] = [...pending][0]!;
      pending.delete(handle);
      assert.equal(timer.ms, common[1], at);
      timer.run();
    } else own(queue, step as Step);
  });
  assert.deepEqual(frames, sent);
  assert.deepEqual(failures, failed);
  queue.stop();
  assert.equal(pending.size, 0, 'a timer left behind after stop');
}

/** Ids `from`, `from + 1`… as the server gives them (decimal strings). */
export const ids = (from: number, count: number): string[] =>
  Array.from({ length: count }, (_, i) => String(from + i));

/** A list of ids, short in a test name: `1,2,3`, or `500 ids`. */
export const idList = (list: string[]): string => (list.length > 3 ? `${list.length} ids` : list.join(','));
