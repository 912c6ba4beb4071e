import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createLogger } from '../../config/logger.js';
import { NOTIFICATION_CHANNEL } from '../../db/orm.js';
import {
  startNotificationListener,
  type NotificationListener,
} from '../../server/hub/notification-listener.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startTcpProxy, type TcpProxy } from '../faults/tcp-proxy.js';
import { waitFor } from '../support/wait.js';

/**
 * The LISTEN connection across a silent network partition: a loopback proxy between
 * the listener and PostgreSQL drops every byte without closing anything. Before the health query,
 * the listener stayed "connected" on a connection that carried nothing, for ever (the fault
 * suite's partition scenario lost every delivery of that server). It must notice within its
 * health check's interval + timeout, reconnect once the network is back, and ask for a catch-up.
 */

let db: TestDatabase;
let proxy: TcpProxy;

before(async () => {
  db = await createTestDatabase();
  const url = new URL(db.url);
  proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
});
after(async () => {
  await proxy?.close();
  await db?.drop();
});

const notify = (payload: string) => db.query('select pg_notify($1, $2)', [NOTIFICATION_CHANNEL, payload]);

describe('LISTEN across a silent partition', () => {
  it('notices within the health check, reconnects after the heal, and asks for a catch-up', async () => {
    const viaProxy = new URL(db.url);
    viaProxy.port = String(proxy.port);
    const received: string[] = [];
    const states: boolean[] = [];
    let reconnections = 0;
    const listener: NotificationListener = await startNotificationListener({
      databaseUrl: viaProxy.toString(),
      channels: [NOTIFICATION_CHANNEL],
      logger: createLogger('silent'),
      onMessage: (message) => received.push(message.payload),
      onReconnected: () => (reconnections += 1),
      onStateChange: (connected) => states.push(connected),
      backoff: { initialMs: 50, maxMs: 200 },
      healthCheck: { intervalMs: 200, timeoutMs: 300 },
      connectTimeoutMs: 500,
    });
    try {
      await notify('before');
      await waitFor('the first payload', () => received.includes('before'));

      proxy.cut();
      const cutAt = Date.now();
      await notify('during');
      await waitFor('the listener to notice', () => !listener.connected, { timeoutMs: 5000, intervalMs: 10 });
      const noticedMs = Date.now() - cutAt;
      assert.ok(noticedMs <= 200 + 300 + 400, `noticed after ${noticedMs} ms (bound: interval + timeout)`);
      assert.equal(reconnections, 0);
      // While cut, attempts time out (connectTimeoutMs) and are retried: still down.
      await new Promise((resolve) => setTimeout(resolve, 1200));
      assert.equal(listener.connected, false);

      proxy.heal();
      await waitFor('the listener back', () => listener.connected, { timeoutMs: 5000, intervalMs: 10 });
      assert.equal(reconnections, 1, 'one catch-up asked for, after the reconnection');
      assert.deepEqual(states, [true, false, true]);
      // The payload sent into the partition is lost with its connection (the catch-up reads it
      // from the table); live ones flow again.
      assert.ok(!received.includes('during'));
      await notify('after');
      await waitFor('a payload after the heal', () => received.includes('after'));

      // No backend left behind but the live one.
      const backends = await db.query<{ n: string }>(
        `select count(*) as n from pg_stat_activity where datname = current_database() and application_name = 'normx-notify-listen'`,
      );
      assert.equal(Number(backends[0]!.n), 1);
    } finally {
      await listener.close();
    }
  });

  it('does not take a blocked event loop for a dead connection', async () => {
    // The event loop blocks for longer than the timeout right after each health query is sent:
    // its answer is in the socket when the timer fires, and must be read before the verdict.
    const query = pg.Client.prototype.query;
    let blocked = 0;
    /** Set once the listener is up: its own LISTEN statements are not health queries. */
    let armed = false;
    pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
      const result = (query as (...a: unknown[]) => unknown).apply(this, args);
      if (armed && String(args[0]).startsWith('listen ') && blocked < 3) {
        blocked += 1;
        const until = Date.now() + 600;
        while (Date.now() < until) {
          // busy, as a long synchronous task would keep it
        }
      }
      return result;
    } as typeof query;
    const states: boolean[] = [];
    try {
      const listener = await startNotificationListener({
        databaseUrl: db.url,
        channels: [NOTIFICATION_CHANNEL],
        logger: createLogger('silent'),
        onMessage: () => undefined,
        onReconnected: () => undefined,
        onStateChange: (connected) => states.push(connected),
        healthCheck: { intervalMs: 100, timeoutMs: 200 },
      });
      armed = true;
      try {
        await waitFor('three blocked health queries', () => blocked === 3, { timeoutMs: 10_000 });
        await new Promise((resolve) => setTimeout(resolve, 500));
        assert.deepEqual(states, [true], 'never taken as lost');
        assert.equal(listener.connected, true);
      } finally {
        await listener.close();
      }
    } finally {
      pg.Client.prototype.query = query;
    }
  });
});
