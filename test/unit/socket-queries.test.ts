import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NotificationQueries } from '../../server/notifications/notification-queries.js';
import { DatabasePermits } from '../../server/ws/database-permits.js';
import { SerialByKey } from '../../server/ws/serial-by-key.js';
import { SocketQueries } from '../../server/ws/socket-queries.js';

/** A socket's database work: each call for its user, under a permit; marks in turn, and refused past the queue. */

function fixture({ maxQueuedMarks = 16 } = {}) {
  const permits = new DatabasePermits(1);
  const calls: Array<{ query: string; args: unknown[]; underPermit: boolean }> = [];
  const record =
    (query: string, answer: unknown) =>
    async (...args: unknown[]): Promise<unknown> => {
      calls.push({ query, args, underPermit: permits.running === 1 });
      return answer;
    };
  const queries = {
    summary: record('summary', { unread: 2, latestId: 9n }),
    latestId: record('latestId', 9n),
    after: record('after', [{ id: '3', json: '{}' }]),
    markRead: record('markRead', { updated: 1, unread: 1 }),
    markAllRead: record('markAllRead', { updated: 2, unread: 0 }),
  } as unknown as NotificationQueries;
  const marks = new SerialByKey(maxQueuedMarks);
  return {
    socket: new SocketQueries('alice', queries, { permits, marks }, new AbortController().signal),
    calls,
    marks,
  };
}

describe('socket queries', () => {
  const cases: Array<{
    name: string;
    call: (socket: SocketQueries) => Promise<unknown>;
    expect: { query: string; args: unknown[]; result: unknown };
  }> = [
    {
      name: 'the summary at open',
      call: (socket) => socket.summary(),
      expect: { query: 'summary', args: ['alice'], result: { unread: 2, latestId: 9n } },
    },
    {
      name: 'the newest id',
      call: (socket) => socket.newest(),
      expect: { query: 'latestId', args: ['alice'], result: 9n },
    },
    {
      name: 'a catch-up page',
      call: (socket) => socket.readPage('2', 500),
      expect: { query: 'after', args: ['alice', '2', 500], result: [{ id: '3', json: '{}' }] },
    },
    {
      name: 'a mark (its result is the new count on the stream, not here)',
      call: (socket) => socket.markRead(['3']),
      expect: { query: 'markRead', args: ['alice', ['3']], result: undefined },
    },
    {
      name: 'a mark of everything',
      call: (socket) => socket.markAllRead(),
      expect: { query: 'markAllRead', args: ['alice'], result: undefined },
    },
  ];
  for (const { name, call, expect } of cases)
    it(name, async () => {
      const { socket, calls } = fixture();
      const result = await call(socket);
      assert.deepEqual(calls, [{ query: expect.query, args: expect.args, underPermit: true }]);
      assert.deepEqual(result, expect.result);
    });

  it("refuses a mark past the user's queue as busy, and runs the others in turn", async () => {
    const { socket, calls, marks } = fixture({ maxQueuedMarks: 1 });
    // The first runs, the second waits its turn, the third finds the queue full.
    const settled = await Promise.allSettled([
      socket.markAllRead(),
      socket.markRead(['1']),
      socket.markAllRead(),
    ]);
    assert.deepEqual(
      settled.map((outcome) =>
        outcome.status === 'fulfilled' ? 'done' : (outcome.reason as { code: string }).code,
      ),
      ['done', 'done', 'server_busy'],
    );
    assert.deepEqual(
      calls.map((call) => call.query),
      ['markAllRead', 'markRead'],
    );
    assert.equal(marks.size, 0, 'nothing left queued');
  });
});
