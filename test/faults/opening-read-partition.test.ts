import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sleep } from '../../bench/stack.js';
import { FaultRig, waitUntil } from './harness.js';
import { openFaultTab } from './tabs.js';

/**
 * A defect the partition scenario found next to the LISTEN one, outside the feed: a tab that
 * connects to a delivery server while the server is cut from PostgreSQL has its socket opened,
 * but its opening read (unread count, catch-up) waited on a pooled connection that the partition
 * killed; after the heal that read never ended (no deadline on the pool's queries), so the tab got
 * nothing, ever, while /healthz said ok. Fixed by the statement deadline
 * (DATABASE_STATEMENT_TIMEOUT_MS): the read fails, the socket closes with 1001 and the tab
 * reconnects. `test/integration/database-deadlines.test.ts` proves it in `npm test` at small scale; this one
 * runs the real processes (about a minute), alone:
 *
 *   node --import tsx --test test/faults/opening-read-partition.test.ts
 */

let rig: FaultRig;

before(async () => {
  rig = await FaultRig.start({ dossiers: 1 });
});
after(async () => {
  await rig?.stop();
});

describe('a tab that connects during a partition', () => {
  it('gets its notifications once the network is back', { timeout: 180_000 }, async () => {
    const user = 'opened-during-cut';
    const server2 = rig.stack.servers[1]!;
    // Server 2's pool has live connections before the cut (another user's tab).
    const warm = openFaultTab({
      userId: 'warm',
      servers: rig.wsUrls,
      home: 1,
      policy: 'pinned',
      getToken: () => rig.token('warm'),
      lastId: '0',
    });
    await waitUntil('the warm tab', () => warm.connected, { timeoutMs: 30_000 });

    rig.proxy.cut();
    const tab = openFaultTab({
      userId: user,
      servers: rig.wsUrls,
      home: 1,
      policy: 'pinned',
      getToken: () => rig.token(user),
      lastId: '0',
    });
    try {
      await waitUntil('the tab open on server 2', () => tab.connected && tab.server === 1, {
        timeoutMs: 30_000,
      });
      await sleep(20_000);
      rig.proxy.heal();
      await waitUntil(
        "server 2's LISTEN back",
        async () => (await rig.listenConnected(server2.healthUrl)) === true,
        { timeoutMs: 30_000 },
      );

      // A notification for the user once everything is back.
      const client = await rig.stack.dossierClient();
      await client.create({
        id: 'cut-open-1',
        title: 'After the heal',
        ownerId: user,
        dueDate: '2099-01-01',
      });
      const [row] = await waitUntil(
        'the created notice stored',
        async () => {
          const rows = await rig.stack.query<{ id: string }>(
            `select id::text as id from notifications where dossier_id = 'cut-open-1'`,
          );
          return rows.length === 1 && rows;
        },
        { timeoutMs: 30_000 },
      );
      const delivered = await waitUntil('its delivery', () => tab.delivered.includes(row!.id), {
        timeoutMs: 30_000,
      }).catch(() => false);
      assert.ok(
        delivered,
        `the tab (still ${tab.client.connectionState} on server ${tab.server + 1}) never got ${row!.id}; ` +
          `connections the partition killed: ${rig.proxy.stats.deadAfterHeal}`,
      );
    } finally {
      tab.close();
      warm.close();
    }
  });
});
