import assert from 'node:assert/strict';
import v8 from 'node:v8';
import vm from 'node:vm';
import { after, before, describe, it } from 'node:test';
import { openNodeTab, type NodeTab } from '../support/node-tabs.js';
import { startServerHarness, type ServerHarness } from '../support/notify-server.js';
import { waitFor } from '../support/wait.js';
import { seededRandom } from '../support/random.js';

/**
 * Soak: tabs of the bell client library open and close at random, several per user
 * at times, each resuming from the cursor the last one kept (as the bell's storage does), with
 * tokens that expire within seconds and are renewed on the socket, while notifications flow.
 * The run is cut into rounds; after each, every tab is closed and the flow paused. From the end
 * of the first round (warm) to the end of the last, the server's heap after a GC, its open
 * handles, its sockets and user streams must come back to where they were; and each user's tabs
 * together must have received every notification of theirs once per tab, in order.
 * SOAK_SECONDS (default 24 in the suite) and SOAK_SEED; `npm run soak` runs five minutes.
 */

const SECONDS = Number(process.env.SOAK_SECONDS ?? 24);
const SEED = Number(process.env.SOAK_SEED ?? 20261202);
const ROUNDS = 4;
const USERS = 12;
/** Tokens live this long: each tab renews its token (`token_expiring` → `refresh_token`) every few seconds. */
const TOKEN_SECONDS = 4;

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

let harness: ServerHarness;
before(async () => {
  harness = await startServerHarness({
    env: { WS_TOKEN_EXPIRY_WARNING_SECONDS: String(TOKEN_SECONDS), JWT_CLOCK_TOLERANCE_SECONDS: '1' },
  });
});
after(async () => {
  await harness?.close();
});

interface Settled {
  heapUsed: number;
  handles: number;
  usersOnline: number;
  connections: number;
}

const countBy = (names: string[]): Record<string, number> =>
  names.reduce<Record<string, number>>(
    (counts, name) => ({ ...counts, [name]: (counts[name] ?? 0) + 1 }),
    {},
  );

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${harness.internalUrl}/metrics`)).text();
  const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return Number(match?.[1] ?? NaN);
}

describe('soak: tab churn, token renewals and a steady flow', () => {
  it(
    `keeps memory, handles and streams flat and loses nothing (${SECONDS} s, seed ${SEED})`,
    {
      timeout: (SECONDS + 120) * 1000,
    },
    async () => {
      const next = seededRandom(SEED);
      const users = Array.from({ length: USERS }, (_, index) => `soak-${index}`);
      /** Every id stored per user, in order. */
      const stored = new Map<string, string[]>(users.map((user) => [user, []]));
      /** The cursor per user: the last id any of their tabs received (the bell's storage). */
      // '0': each user starts with an empty history, so that even their first tab resumes (a tab
      // without a cursor is live only: what came before it is for the REST list).
      const cursor = new Map<string, string | undefined>(users.map((user) => [user, '0']));
      const closedTabs: Array<{ user: string; tab: NodeTab; from: string | undefined }> = [];
      const open = new Map<string, Array<{ tab: NodeTab; from: string | undefined }>>();
      let renewals = 0;

      const openTab = (user: string) => {
        const from = cursor.get(user);
        const tab = openNodeTab({
          url: `${harness.wsUrl}/api/v1/ws`,
          getToken: async () => {
            renewals += 1;
            return harness.token(user, { expiresInSeconds: TOKEN_SECONDS });
          },
          ...(from && { lastId: from }),
          backoff: { initialMs: 50, maxMs: 500 },
        });
        tab.client.notifications$.subscribe(({ id }) => {
          if (BigInt(id) > BigInt(cursor.get(user) ?? '0')) cursor.set(user, id);
        });
        open.set(user, [...(open.get(user) ?? []), { tab, from }]);
      };
      const closeTab = (user: string, index: number) => {
        const tabs = open.get(user) ?? [];
        const [closing] = tabs.splice(index, 1);
        if (!closing) return;
        closing.tab.close();
        closedTabs.push({ user, ...closing });
      };

      const roundMs = (SECONDS * 1000) / ROUNDS;
      const resourceCounts: Array<Record<string, number>> = [];
      const settledAfter: Settled[] = [];
      for (let round = 0; round < ROUNDS; round += 1) {
        // One tab per user stays the whole round: it lives past its token's warning and renews it.
        for (const user of users) openTab(user);
        const ends = Date.now() + roundMs;
        let lastFlow = Date.now();
        while (Date.now() < ends) {
          // The flow: about 25 notifications a second, to random users.
          if (Date.now() - lastFlow >= 40) {
            lastFlow = Date.now();
            const user = users[Math.floor(next() * USERS)]!;
            stored.get(user)!.push(await harness.notify(user));
          }
          // The churn: a tab opens or closes now and then; up to three per user.
          const user = users[Math.floor(next() * USERS)]!;
          const count = open.get(user)?.length ?? 0;
          if (next() < 0.03) {
            if (count < 3 && (count === 0 || next() < 0.4)) openTab(user);
            else if (count > 0) closeTab(user, Math.floor(next() * count));
          }
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
        // Quiesce: every tab closed, nothing flowing; the server lets go of what they held.
        for (const user of users) while ((open.get(user)?.length ?? 0) > 0) closeTab(user, 0);
        await waitFor(
          'every socket closed on the server',
          async () => (await metric('normx_notify_ws_connections')) === 0,
          {
            timeoutMs: 20_000,
          },
        );
        gc();
        resourceCounts.push(countBy(process.getActiveResourcesInfo()));
        settledAfter.push({
          heapUsed: process.memoryUsage().heapUsed,
          handles: process.getActiveResourcesInfo().length,
          usersOnline: harness.server.hub.usersOnline,
          connections: await metric('normx_notify_ws_connections'),
        });
      }

      // Nothing lost: a last tab per user, from the cursor, catches up to the user's newest.
      for (const user of users) if (stored.get(user)!.length > 0) openTab(user);
      await waitFor(
        'each user caught up',
        () =>
          users.every((user) => {
            const newest = stored.get(user)!.at(-1);
            return newest === undefined || cursor.get(user) === newest;
          }),
        { timeoutMs: 30_000 },
      );
      for (const user of users) while ((open.get(user)?.length ?? 0) > 0) closeTab(user, 0);

      let tabsChecked = 0;
      for (const user of users) {
        const tabs = closedTabs.filter((entry) => entry.user === user);
        const received = new Set(tabs.flatMap(({ tab }) => tab.notificationIds));
        const missing = stored.get(user)!.filter((id) => !received.has(id));
        assert.deepEqual(missing, [], `${user} never received ${missing.length} of its notifications`);
        for (const { tab, from } of tabs) {
          tabsChecked += 1;
          const ids = tab.notificationIds.map(BigInt);
          assert.ok(
            ids.every((id, index) => index === 0 || id > ids[index - 1]!),
            `${user}: a tab received ids out of order or twice`,
          );
          if (from)
            assert.ok(
              ids.every((id) => id > BigInt(from)),
              `${user}: a tab received an id before its cursor`,
            );
          assert.deepEqual(
            tab.errors.filter((error) => error.fatal),
            [],
            `${user}: a tab stopped`,
          );
        }
      }
      assert.ok(tabsChecked > USERS * ROUNDS, `churned ${tabsChecked} tabs`);
      assert.ok(
        renewals > tabsChecked,
        `tokens renewed on open sockets (${renewals} tokens for ${tabsChecked} tabs)`,
      );

      const [warm, last] = [settledAfter[0]!, settledAfter.at(-1)!];
      for (const settled of settledAfter) {
        assert.equal(settled.connections, 0);
        assert.equal(settled.usersOnline, 0, 'every user stream released');
      }
      // Closed sockets leave the process as their closing handshakes end (ws waits up to 30 s for
      // a peer's close): the count comes back to the warm one, not necessarily at once. A count
      // taken right after a round is a snapshot of handshakes still closing, not a leak (CI saw
      // 34 → 48 after the last round, then back to the warm count): only this wait decides.
      await waitFor(
        `open handles back to the warm count (${warm.handles}; after each round: ${JSON.stringify(resourceCounts)})`,
        () => process.getActiveResourcesInfo().length <= warm.handles + 2,
        { timeoutMs: 35_000, intervalMs: 250 },
      );
      const growth = last.heapUsed - warm.heapUsed;
      assert.ok(
        growth < 8 * 1024 * 1024,
        `heap grew ${(growth / 1024 / 1024).toFixed(1)} MiB over ${ROUNDS - 1} rounds`,
      );
    },
  );
});
