import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  httpRequest,
  openSocket,
  startServerHarness,
  type ServerHarness,
  type TestSocket,
} from '../support/notify-server.js';

/** Live delivery on a real server, real WebSocket clients, real PostgreSQL LISTEN/NOTIFY. */

let harness: ServerHarness;
before(async () => {
  harness = await startServerHarness();
});
after(async () => {
  await harness?.close();
});

const socketFor = async (user: string, query = ''): Promise<TestSocket> =>
  openSocket(`${harness.wsUrl}/api/v1/ws/${await harness.token(user)}${query}`);

describe('live delivery', () => {
  it("sends every tab exactly its user's notifications, and no one else's", async () => {
    const tabs = {
      alice: await Promise.all([1, 2, 3].map(() => socketFor('alice'))),
      bob: await Promise.all([1, 2, 3].map(() => socketFor('bob'))),
    };
    for (const tab of [...tabs.alice, ...tabs.bob])
      await tab.waitFor('the unread count', (messages) => messages.some((m) => m.type === 'unread_count'));

    const aliceIds = [await harness.notify('alice'), await harness.notify('alice')];
    const bobIds = [await harness.notify('bob')];
    for (const tab of tabs.alice) await tab.waitFor('alice notifications', () => tab.ids().length === 2);
    for (const tab of tabs.bob) await tab.waitFor('bob notifications', () => tab.ids().length === 1);
    await harness.notify('carol'); // a user with no socket
    const marker = await harness.notify('alice');
    for (const tab of tabs.alice) await tab.waitFor('the marker', () => tab.ids().includes(marker));

    for (const tab of tabs.alice) assert.deepEqual(tab.ids(), [...aliceIds, marker]);
    for (const tab of tabs.bob) assert.deepEqual(tab.ids(), bobIds);
    for (const tab of [...tabs.alice, ...tabs.bob]) tab.ws.close();
  });
});

/** The counts a tab received, in order. */
const countsOf = (tab: TestSocket): unknown[] =>
  tab.messages.filter((message) => message.type === 'unread_count').map((message) => message.count);

const lastCountIs = (tab: TestSocket, count: number) => (): boolean => countsOf(tab).at(-1) === count;

describe('unread count on every tab', () => {
  it('gives the new count to every tab of the user after a mark, on every server process, over the socket or REST', async () => {
    // A second server process on the same database: it LISTENs on its own.
    const second = await startServerHarness({ db: harness.db });
    try {
      const token = await harness.token('erin');
      const tabs = [
        await socketFor('erin'),
        await socketFor('erin'),
        await openSocket(`${second.wsUrl}/api/v1/ws/${token}`),
      ];
      const other = await socketFor('frank');
      for (const tab of [...tabs, other]) await tab.waitFor('the unread count', lastCountIs(tab, 0));
      const ids = [await harness.notify('erin'), await harness.notify('erin'), await harness.notify('erin')];
      for (const tab of tabs) await tab.waitFor('three notifications', () => tab.ids().length === 3);

      tabs[0]!.send({ type: 'mark_read', ids: [ids[0]] });
      for (const tab of tabs) await tab.waitFor('the count after a socket mark', lastCountIs(tab, 2));

      const reply = await httpRequest(`${second.url}/api/v1/users/erin/notifications/read`, {
        token,
        body: { ids: [ids[1]] },
      });
      assert.equal(reply.status, 200);
      assert.equal(reply.json.unreadCount, 1);
      for (const tab of tabs) await tab.waitFor('the count after a REST mark', lastCountIs(tab, 1));

      tabs[2]!.send({ type: 'mark_all_read' });
      for (const tab of tabs) {
        await tab.waitFor('the count after mark all read', lastCountIs(tab, 0));
        assert.deepEqual(countsOf(tab), [0, 2, 1, 0]);
      }
      const marker = await harness.notify('frank');
      await other.waitFor("frank's marker", () => other.ids().includes(marker));
      assert.deepEqual(countsOf(other), [0], "other users' tabs get no count");
      for (const tab of [...tabs, other]) tab.ws.close();
    } finally {
      await second.close();
    }
  });
});

describe('latency from another process', () => {
  it('delivers a notification committed by a separate process within 100 ms of its commit', async () => {
    const { spawn } = await import('node:child_process');
    const tab = await socketFor('dora');
    const receivedAt = new Map<string, number>();
    tab.ws.on('message', (data) => {
      const message = JSON.parse(data.toString()) as { type: string; notification?: { id: string } };
      if (message.type === 'notification') receivedAt.set(message.notification!.id, Date.now());
    });
    const child = spawn(process.execPath, [
      '--import',
      'tsx',
      new URL('../support/commit-notifications.ts', import.meta.url).pathname,
      harness.db.url,
      'dora',
      '10',
    ]);
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise((resolve) => child.on('exit', resolve));
    assert.equal(code, 0);
    const commits = [...output.matchAll(/committed (\d+) (\d+)/g)].map((match) => ({
      id: match[1]!,
      at: Number(match[2]),
    }));
    assert.equal(commits.length, 10);
    await tab.waitFor('all ten', () => commits.every((commit) => receivedAt.has(commit.id)));
    const latencies = commits.map((commit) => receivedAt.get(commit.id)! - commit.at);
    assert.ok(Math.max(...latencies) < 100, `latencies ${latencies.join(', ')} ms`);
    assert.deepEqual(
      tab.ids(),
      commits.map((commit) => commit.id),
    );
    tab.ws.close();
  });
});

describe('polling feed (the embedded database has no LISTEN)', () => {
  it('delivers to every tab, a user with no notification yet included, with no duplicate', async () => {
    const polling = await startServerHarness({ feed: { type: 'poll', intervalMs: 50 } });
    try {
      const tabs = await Promise.all(
        [1, 2].map(async () => openSocket(`${polling.wsUrl}/api/v1/ws/${await polling.token('fresh-user')}`)),
      );
      for (const tab of tabs)
        await tab.waitFor('the unread count', (messages) => messages.some((m) => m.type === 'unread_count'));
      const ids = [
        await polling.notify('fresh-user'),
        await polling.notify('fresh-user'),
        await polling.notify('other'),
      ];
      for (const tab of tabs) await tab.waitFor('both notifications', () => tab.ids().length === 2);
      const marker = await polling.notify('fresh-user');
      for (const tab of tabs) {
        await tab.waitFor('the marker', () => tab.ids().includes(marker));
        assert.deepEqual(tab.ids(), [ids[0], ids[1], marker]);
      }
      // No NOTIFY comes back here: the marking process publishes the count itself.
      tabs[0]!.send({ type: 'mark_read', ids: [ids[0]] });
      for (const tab of tabs) {
        await tab.waitFor('the count after a mark', lastCountIs(tab, 2));
        tab.ws.close();
      }
    } finally {
      await polling.close();
    }
  });
});
