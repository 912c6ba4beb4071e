import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { inboxCountsReply, notificationPage } from '../../server/http/api-schemas.js';
import { httpRequest, startServerHarness, type ServerHarness, type TestSocket } from './notify-server.js';

/**
 * What the inbox-state tests share (test/integration/inbox-states*.test.ts): a real server on a
 * fresh database, started before the file's tests (`useInboxServer`), and REST helpers on it.
 */

let harness: ServerHarness;

/** Starts the server before the file's tests, stops it after; returns a getter. */
export function useInboxServer(): () => ServerHarness {
  before(async () => {
    harness = await startServerHarness();
  });
  after(async () => {
    await harness?.close();
  });
  return () => harness;
}

export const base = (user: string) => `/api/v1/users/${user}/notifications`;

/** A REST call with the user's token. */
export async function call(user: string, path: string, body?: unknown) {
  return httpRequest(`${harness.url}${base('me')}${path}`, { token: await harness.token(user), body });
}

export async function countsOf(user: string) {
  const reply = await call(user, '/counts');
  assert.equal(reply.status, 200, reply.text);
  return inboxCountsReply.parse(reply.json);
}

export async function listIds(user: string, query = ''): Promise<string[]> {
  const reply = await call(user, `${query ? `?${query}` : ''}`);
  assert.equal(reply.status, 200, reply.text);
  return notificationPage.parse(reply.json).items.map((item) => item.id);
}

/** Stores `count` notifications for the user, oldest first: their ids. */
export async function notifyMany(user: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let index = 0; index < count; index += 1) ids.push(await harness.notify(user, `N${index}`));
  return ids;
}

/** The row's states as the table has them. */
export async function rowState(id: string) {
  const [row] = await harness.db.query<{ user_id: string; read: boolean; archived: boolean }>(
    `select user_id, read_at is not null as read, archived_at is not null as archived from notifications where id = $1`,
    [id],
  );
  return row;
}

/** The counts of the last `unread_count` frame a socket received. */
export const lastCounts = (socket: TestSocket) => {
  const frame = socket.messages.findLast((message) => message.type === 'unread_count');
  return (
    frame && {
      unread: frame.count,
      unseen: frame.unseen,
      archived: frame.archived,
      lastSeenId: frame.lastSeenId,
    }
  );
};
