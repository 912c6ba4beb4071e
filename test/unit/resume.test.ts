import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CATCH_UP_PAGE } from '../../server/notifications/catch-up.js';
import { catchUp, type CaughtUp, type CatchUpSink, type CatchUpSource } from '../../server/ws/resume.js';
import type { IdRange } from '../../server/ws/sent-ids.js';

/** A resume's catch-up on a table of ids and a recording socket: what it reads, sends and answers. */

interface Case {
  name: string;
  /** The user's notification ids in the table. */
  table: number[];
  lastId: number;
  sentLive?: IdRange;
  /** The newest id, as known at open (no read then). */
  latestId?: number;
  /** The socket closes once this many notifications were sent. */
  closeAfter?: number;
  expect: {
    /** Frames in order: `reset:<lastId>` for cursor_reset, else the notification's id. */
    sent: string[];
    result: { cursor: number; count: number } | 'abandoned';
    /** Pages read, by their `after`. */
    pages?: string[];
    newestRead?: boolean;
  };
}

const ids = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, index) => from + index);

async function run({ table, lastId, sentLive, latestId, closeAfter = Infinity }: Case) {
  const sent: string[] = [];
  const pages: string[] = [];
  let newestRead = false;
  let notifications = 0;
  const source: CatchUpSource = {
    newest: async () => {
      newestRead = true;
      return BigInt(Math.max(0, ...table));
    },
    readPage: async (after, limit) => {
      pages.push(after);
      return table
        .filter((id) => id > Number(after))
        .slice(0, limit)
        .map((id) => ({ id: String(id), json: `{"id":"${id}"}` }));
    },
  };
  const sink: CatchUpSink = {
    queue: (frame) => {
      const message = JSON.parse(frame) as { type: string; lastId: string | null };
      assert.equal(message.type, 'cursor_reset');
      sent.push(`reset:${message.lastId}`);
    },
    queueNotification: (frame) => {
      sent.push((JSON.parse(frame) as { notification: { id: string } }).notification.id);
      notifications += 1;
    },
    waitForRoom: async () => {},
    get closed() {
      return notifications >= closeAfter;
    },
  };
  const result: CaughtUp | undefined = await catchUp(
    String(lastId),
    { sentLive, latestId: latestId === undefined ? undefined : BigInt(latestId) },
    source,
    sink,
  );
  return {
    sent,
    result:
      result === undefined ? ('abandoned' as const) : { cursor: Number(result.cursor), count: result.count },
    pages,
    newestRead,
  };
}

describe('resume catch-up', () => {
  const cases: Case[] = [
    {
      name: 'nothing after the cursor: nothing sent, the cursor stays',
      table: [1, 2, 3],
      lastId: 3,
      expect: { sent: [], result: { cursor: 3, count: 0 }, pages: ['3'], newestRead: true },
    },
    {
      name: 'everything after the cursor, in order',
      table: [1, 2, 3, 4],
      lastId: 2,
      expect: { sent: ['3', '4'], result: { cursor: 4, count: 2 } },
    },
    {
      name: 'what went out live is skipped, and the cursor still moves past it',
      table: ids(1, 6),
      lastId: 1,
      sentLive: { from: 3n, to: 6n },
      expect: { sent: ['2'], result: { cursor: 6, count: 1 } },
    },
    {
      name: 'a cursor above the newest id is reset to it, and reading starts there',
      table: [1, 2],
      lastId: 1000,
      expect: { sent: ['reset:2'], result: { cursor: 2, count: 0 }, pages: ['2'] },
    },
    {
      name: 'a cursor above a user with no notification is reset to null',
      table: [],
      lastId: 5,
      expect: { sent: ['reset:null'], result: { cursor: 0, count: 0 }, pages: ['0'] },
    },
    {
      name: 'the newest id known at open is not read again',
      table: [1, 2],
      lastId: 0,
      latestId: 2,
      expect: { sent: ['1', '2'], result: { cursor: 2, count: 2 }, newestRead: false },
    },
    {
      name: 'reads page after page until a short one',
      table: ids(1, 2 * CATCH_UP_PAGE + 10),
      lastId: 0,
      expect: {
        sent: ids(1, 2 * CATCH_UP_PAGE + 10).map(String),
        result: { cursor: 2 * CATCH_UP_PAGE + 10, count: 2 * CATCH_UP_PAGE + 10 },
        pages: ['0', String(CATCH_UP_PAGE), String(2 * CATCH_UP_PAGE)],
      },
    },
    {
      name: 'a socket closed during it: abandoned, no more pages',
      table: ids(1, CATCH_UP_PAGE + 10),
      lastId: 0,
      closeAfter: 3,
      expect: { sent: ['1', '2', '3'], result: 'abandoned', pages: ['0'] },
    },
  ];

  for (const testCase of cases)
    it(testCase.name, async () => {
      const outcome = await run(testCase);
      const { pages, newestRead, ...rest } = testCase.expect;
      assert.deepEqual({ sent: outcome.sent, result: outcome.result }, rest);
      if (pages) assert.deepEqual(outcome.pages, pages);
      if (newestRead !== undefined) assert.equal(outcome.newestRead, newestRead);
    });
});
