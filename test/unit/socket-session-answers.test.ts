import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { setImmediate as nextIteration } from 'node:timers/promises';
import type { TokenVerifier } from '../../server/auth/token-verifier.js';
import type { DatedCounts } from '../../server/notifications/inbox-counts.js';
import type { NotificationQueries } from '../../server/notifications/notification-queries.js';
import { scriptedPort } from '../support/scripted-port.js';
import {
  datedCounts,
  idsIn,
  messagesOf,
  openSession,
  publishIds,
} from '../support/socket-session-harness.js';
import { waitFor } from '../support/wait.js';

/**
 * The session's catch-up (bounded while paused, a cursor above the newest id) and its answers
 * (error refs, short-lived tokens, refresh_token, the first frame), on a scripted socket port.
 */
describe('socket session catch-up: bounded while paused, a cursor above the newest id', () => {
  it('bounds what waits behind a paused catch-up: past maxBufferedBytes it closes with 4503', async () => {
    // The socket never drains: the catch-up waits for room after its first frame.
    const { port, frames } = scriptedPort({ buffered: 1 << 20 });
    const { hub, session } = await openSession(port, {
      resumeFrom: '0',
      maxBufferedBytes: 64 * 1024,
      queries: {
        after: async () => [1, 2, 3].map((id) => ({ id: String(id), json: `{"id":"${id}"}` })),
      },
    });
    // The count is written just before the catch-up waits for room.
    await waitFor('the catch-up to wait for room', () => frames.length === 1);
    const body = 'x'.repeat(1000);
    for (let id = 100; id < 400 && port.closedWith === undefined; id += 1) {
      hub.publish('alice', { id: String(id), json: `{"id":"${id}","body":"${body}"}` });
      await nextIteration();
    }
    assert.equal(port.closedWith, 4503);
    session.closedByPeer();
  });

  it('a cursor above the newest id: cursor_reset with the newest, then the live stream', async () => {
    const { port, frames } = scriptedPort();
    const { hub, opened } = await openSession(port, {
      resumeFrom: '1000000',
      queries: {
        summary: async () => datedCounts(2, 42n),
        after: async (_user: string, afterId: string) =>
          afterId === '42' || afterId === '1000000' ? [] : assert.fail(`read after ${afterId}`),
        latestId: async () => 42n,
      } as Partial<NotificationQueries>,
    });
    await opened;
    await nextIteration();
    publishIds(hub, [43]);
    await nextIteration();
    const messages = messagesOf(frames);
    assert.deepEqual(
      messages.map((message) => message.type),
      ['unread_count', 'cursor_reset', 'resumed', 'notification'],
    );
    assert.deepEqual(messages[1], { type: 'cursor_reset', lastId: '42' });
    assert.deepEqual(idsIn(frames), ['43']);
  });
});

describe('socket session answers: error refs, short tokens, refresh_token, the first frame', () => {
  it('an error answering a mark that fails validation echoes its ref', async () => {
    const { port, frames } = scriptedPort();
    const { session } = await openSession(port);
    for (const message of [
      { type: 'mark_read', ids: ['007'], ref: 'r-lead0' },
      { type: 'mark_read', ids: ['9999999999999999999'], ref: 'r-huge' },
      { type: 'mark_read', ids: ['1'], ref: 'r-extra', extra: 1 },
      { type: 'mark_all_read', ref: 'r-all', padding: true },
      // Not a usable ref (empty, too long, not a string): the error carries none.
      { type: 'mark_all_read', ref: '' },
      { type: 'mark_all_read', ref: 'x'.repeat(65) },
      { type: 'mark_all_read', ref: 7 },
    ])
      await session.receive(JSON.stringify(message));
    await nextIteration();
    const errors = messagesOf(frames).filter((message) => message.type === 'error');
    assert.deepEqual(
      errors.map((error) => [error.code, error.ref]),
      [
        ['validation_failed', 'r-lead0'],
        ['validation_failed', 'r-huge'],
        ['validation_failed', 'r-extra'],
        ['validation_failed', 'r-all'],
        ['validation_failed', undefined],
        ['validation_failed', undefined],
        ['validation_failed', undefined],
      ],
    );
  });

  it('a token shorter-lived than the warning window warns at half its remaining life, not at once', async () => {
    const start = Date.UTC(2026, 11, 2, 12);
    mock.timers.enable({ apis: ['Date', 'setTimeout'], now: start });
    try {
      const { port, frames } = scriptedPort();
      // exp in 20 s, tolerance 0: closes in 20 s; the 60-s warning would fire at once.
      await openSession(port, { expiresAt: start / 1000 + 20, clockToleranceSeconds: 0 });
      mock.timers.tick(0);
      await nextIteration();
      const warned = () => messagesOf(frames).some((message) => message.type === 'token_expiring');
      assert.equal(warned(), false, 'no warning at once');
      mock.timers.tick(9_999);
      await nextIteration();
      assert.equal(warned(), false, 'none before half the remaining life');
      mock.timers.tick(1);
      await nextIteration();
      assert.equal(warned(), true, 'warned at exp - remaining/2');
    } finally {
      mock.timers.reset();
    }
  });

  it('refresh_token refuses an older token (socket kept) and a service token (forbidden)', async () => {
    const { port, frames } = scriptedPort();
    const now = Math.floor(Date.now() / 1000);
    const principals: Record<string, { subject: string; isService: boolean; expiresAt: number }> = {
      older: { subject: 'alice', isService: false, expiresAt: now + 3 },
      service: { subject: 'alice', isService: true, expiresAt: now + 7200 },
      newer: { subject: 'alice', isService: false, expiresAt: now + 7200 },
    };
    const { session } = await openSession(port, {
      verifier: { verify: async (token: string) => principals[token]! } as unknown as TokenVerifier,
    });
    for (const token of ['older', 'service', 'newer'])
      await session.receive(JSON.stringify({ type: 'refresh_token', token }));
    await nextIteration();
    const errors = messagesOf(frames).filter((message) => message.type === 'error');
    assert.deepEqual(
      errors.map((error) => error.code),
      ['bad_request', 'forbidden'],
    );
    assert.match(String(errors[0]!.message), /expires before/);
    assert.equal(port.closedWith, undefined, 'the socket is kept');
    session.closedByPeer();
  });

  it('unread_count is the first frame even when a notification arrives during the count read', async () => {
    const { port, frames } = scriptedPort();
    let countRead: (value: DatedCounts) => void = () => {};
    const { hub, opened } = await openSession(port, {
      resumeFrom: undefined,
      deferOpen: true,
      queries: { summary: () => new Promise((resolve) => (countRead = resolve)) },
    });
    await nextIteration();
    publishIds(hub, [7]);
    await nextIteration();
    countRead(datedCounts(1, 6n));
    await opened;
    await nextIteration();
    assert.deepEqual(
      messagesOf(frames).map((message) => message.type),
      ['unread_count', 'notification'],
    );
  });
});
