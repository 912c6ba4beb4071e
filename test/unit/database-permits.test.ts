import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setImmediate as nextIteration } from 'node:timers/promises';
import { DatabasePermits, permitsForPool } from '../../server/ws/database-permits.js';
import { SerialByKey } from '../../server/ws/serial-by-key.js';

/** A promise settled from outside. */
function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((ok, fail) => ((resolve = ok), (reject = fail)));
  return { promise, resolve, reject };
}

describe('DatabasePermits', () => {
  const cases = [
    { size: 1, jobs: 3, running: 1, pending: 3 },
    { size: 2, jobs: 1, running: 1, pending: 1 },
    { size: 2, jobs: 5, running: 2, pending: 5 },
    { size: 5, jobs: 5, running: 5, pending: 5 },
  ];
  for (const { size, jobs, running, pending } of cases) {
    it(`size ${size}, ${jobs} jobs: ${running} run at once, ${pending} pending, all complete in order`, async () => {
      const permits = new DatabasePermits(size);
      const gates = Array.from({ length: jobs }, () => deferred());
      const started: number[] = [];
      const done = gates.map((gate, index) =>
        permits.run(async () => {
          started.push(index);
          await gate.promise;
          return index;
        }),
      );
      await nextIteration();
      assert.equal(permits.running, running);
      assert.equal(permits.pending, pending);
      assert.deepEqual(started, [...Array(running).keys()]);
      // A failure releases its permit too.
      gates[0]!.reject(new Error('boom'));
      for (const gate of gates.slice(1)) gate.resolve();
      const results = await Promise.allSettled(done);
      assert.equal(results[0]!.status, 'rejected');
      assert.deepEqual(started, [...Array(jobs).keys()], 'served in arrival order');
      assert.equal(permits.pending, 0);
    });
  }

  it('work abandoned while it waits leaves the queue and never runs; running work finishes; later work takes its turn', async () => {
    const permits = new DatabasePermits(1);
    const gate = deferred();
    const ran: string[] = [];
    const running = permits.run(async () => {
      ran.push('running');
      await gate.promise;
    });
    const socket = new AbortController();
    const abandoned = permits.run(async () => ran.push('abandoned'), { abandon: socket.signal });
    const next = permits.run(async () => ran.push('next'));
    assert.equal(permits.pending, 3);
    const gone = new Error('gone');
    socket.abort(gone);
    await assert.rejects(abandoned, gone);
    assert.equal(permits.pending, 2);
    // Already abandoned: refused at once, nothing queued.
    await assert.rejects(
      permits.run(async () => ran.push('late'), { abandon: socket.signal }),
      gone,
    );
    assert.equal(permits.pending, 2);
    gate.resolve();
    await Promise.all([running, next]);
    assert.deepEqual(ran, ['running', 'next']);
    assert.equal(permits.pending, 0);
  });

  it('refuses a size that is not a positive integer', () => {
    for (const size of [0, -1, 1.5, Number.NaN]) assert.throws(() => new DatabasePermits(size), RangeError);
  });

  for (const [pool, permits] of [
    [1, 1],
    [2, 1],
    [10, 5],
    [11, 5],
  ] as const)
    it(`a pool of ${pool} gives ${permits} permits`, () => assert.equal(permitsForPool(pool), permits));
});

describe('SerialByKey', () => {
  it('runs one at a time per key, in order; other keys do not wait; past maxQueued it refuses', async () => {
    const serial = new SerialByKey(2);
    const log: string[] = [];
    const gate = deferred();
    const job = (name: string, wait?: Promise<void>) => async () => {
      log.push(`start ${name}`);
      await wait;
      log.push(`end ${name}`);
      return name;
    };
    const first = serial.run('alice', job('a1', gate.promise));
    const second = serial.run('alice', job('a2'));
    const third = serial.run('alice', job('a3'));
    const refused = serial.run('alice', job('a4'));
    const other = serial.run('bob', job('b1'));
    assert.equal(refused, undefined, 'a fourth is refused: one running, two queued');
    assert.equal(await other, 'b1');
    assert.deepEqual(log, ['start a1', 'start b1', 'end b1']);
    gate.resolve();
    assert.deepEqual(await Promise.all([first, second, third]), ['a1', 'a2', 'a3']);
    assert.deepEqual(log.slice(3), ['end a1', 'start a2', 'end a2', 'start a3', 'end a3']);
    assert.equal(serial.size, 0, 'nothing kept once done');
  });

  it('a failing job lets the next one run', async () => {
    const serial = new SerialByKey(1);
    const failing = serial.run('alice', () => Promise.reject(new Error('boom')));
    const next = serial.run('alice', () => Promise.resolve('ok'));
    await assert.rejects(failing!, /boom/);
    assert.equal(await next, 'ok');
    assert.equal(serial.size, 0);
  });
});
