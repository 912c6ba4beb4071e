import assert from 'node:assert/strict';
import { Agent, request as httpClientRequest, type IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import pg from 'pg';
import { createTokenVerifier } from '../../server/auth/token-verifier.js';
import {
  openSocket,
  refusedUpgrade,
  startServerHarness,
  TEST_SECRET,
  type ServerHarness,
} from '../support/notify-server.js';
import { waitFor } from '../support/wait.js';

/**
 * A delivery server stopping (SIGTERM, `npm start` ended): `shutdown()` resolves once what it had
 * started is done (a socket's mark, a REST call) so that its caller may close the pool, and what
 * comes after it began (a request on a kept-alive connection, an upgrade whose token was being
 * verified) is refused with `shutting_down` instead of running on a server that is going away.
 */

/** Holds `userId`'s notification lock from a connection of its own until `release()`. */
async function holdUserLock(harness: ServerHarness, userId: string) {
  const locker = new pg.Client({ connectionString: harness.db.url });
  await locker.connect();
  await locker.query('begin');
  await locker.query('select lock_user_notifications($1)', [userId]);
  return {
    /** Someone waits for the lock: the server's work is under way, blocked. */
    waitedFor: () =>
      waitFor('work waiting for the lock', async () => {
        const { rows } = await locker.query(
          "select 1 from pg_stat_activity where wait_event_type = 'Lock' and wait_event = 'advisory' and datname = current_database()",
        );
        return rows.length > 0;
      }),
    release: async () => {
      await locker.query('commit');
      await locker.end();
    },
  };
}

/** A request on `agent` (keep-alive, one socket): its status, body and whether it reused the connection. */
function request(agent: Agent, url: string, options: { method?: string; token: string; body?: unknown }) {
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise<{ status: number; json: { error?: { code: string } }; reused: boolean }>(
    (resolve, reject) => {
      const sent = httpClientRequest(url, {
        agent,
        method: options.method ?? 'GET',
        headers: {
          authorization: `Bearer ${options.token}`,
          ...(body !== undefined && {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          }),
        },
      });
      sent.once('error', reject);
      sent.once('response', async (response: IncomingMessage) => {
        let text = '';
        for await (const chunk of response) text += String(chunk);
        resolve({ status: response.statusCode ?? 0, json: JSON.parse(text), reused: sent.reusedSocket });
      });
      sent.end(body);
    },
  );
}

const readAt = async (harness: ServerHarness, id: string) =>
  (
    await harness.db.query<{ read_at: Date | null }>('select read_at from notifications where id = $1', [id])
  )[0]?.read_at ?? null;

describe('shutdown', () => {
  it('resolves only once a socket mark it had started is stored: the caller may then close the pool', async () => {
    const harness = await startServerHarness();
    const locker = new pg.Client({ connectionString: harness.db.url });
    await locker.connect();
    try {
      const id = await harness.notify('dora');
      const socket = await openSocket(`${harness.wsUrl}/api/v1/ws/${await harness.token('dora')}`);
      await socket.waitFor('the unread count', (messages) => messages.some((m) => m.type === 'unread_count'));
      // Dora's lock held elsewhere: her mark waits inside the server, holding a connection.
      await locker.query('begin');
      await locker.query('select lock_user_notifications($1)', ['dora']);
      socket.send({ type: 'mark_read', ids: [id], ref: 'm-1' });
      await waitFor('the mark to wait for the lock', async () => {
        const { rows } = await locker.query(
          "select 1 from pg_stat_activity where wait_event_type = 'Lock' and wait_event = 'advisory' and datname = current_database()",
        );
        return rows.length > 0;
      });
      const stopped = harness.server.shutdown();
      await socket.closed;
      await locker.query('commit');
      await stopped;
      const [row] = await harness.db.query<{ read_at: Date | null }>(
        'select read_at from notifications where id = $1',
        [id],
      );
      assert.notEqual(row?.read_at, null, 'the mark was stored before shutdown resolved');
    } finally {
      await locker.end();
      await harness.close();
    }
  });

  it('answers a REST call under way before it resolves, and refuses the next one on the kept-alive connection', async () => {
    const harness = await startServerHarness();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const id = await harness.notify('erin');
      const token = await harness.token('erin');
      const base = `${harness.url}/api/v1/users/me`;
      assert.equal((await request(agent, `${base}/notifications/unread-count`, { token })).status, 200);
      const lock = await holdUserLock(harness, 'erin');
      const marked = request(agent, `${base}/notifications/read`, {
        method: 'POST',
        token,
        body: { ids: [id] },
      });
      await lock.waitedFor();
      const stopped = harness.server.shutdown();
      await lock.release();
      await stopped;
      assert.notEqual(await readAt(harness, id), null, 'the call was stored before shutdown resolved');
      assert.equal((await marked).status, 200);
      const after = await request(agent, `${base}/notifications/unread-count`, { token });
      assert.equal(after.reused, true, 'sent on the kept-alive connection');
      assert.equal(after.status, 503);
      assert.equal(after.json.error?.code, 'shutting_down');
    } finally {
      agent.destroy();
      await harness.close();
    }
  });

  it('refuses an upgrade whose token was being verified when it began, instead of opening a socket', async () => {
    const real = createTokenVerifier({
      hs256Secret: TEST_SECRET,
      clockToleranceSeconds: 30,
      serviceScope: 'notify:service',
    });
    let openGate!: () => void;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    let asked!: () => void;
    const verifying = new Promise<void>((resolve) => (asked = resolve));
    // As a slow JWKS fetch would: the verification ends after shutdown began.
    const verifier = {
      verify: async (token: string | undefined | null) => {
        asked();
        await gate;
        return real.verify(token);
      },
    };
    const harness = await startServerHarness({ verifier });
    try {
      const refused = refusedUpgrade(`${harness.wsUrl}/api/v1/ws/${await harness.token('frank')}`);
      await verifying;
      const stopped = harness.server.shutdown();
      openGate();
      const { status, body } = await refused;
      assert.equal(status, 503);
      assert.equal((body as { error: { code: string } }).error.code, 'shutting_down');
      await stopped;
    } finally {
      await harness.close();
    }
  });
});
