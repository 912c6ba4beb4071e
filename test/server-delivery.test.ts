import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  openSocket,
  startServerHarness,
  type ServerHarness,
  type TestSocket,
} from './support/notify-server.js';

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
      new URL('./support/commit-notifications.ts', import.meta.url).pathname,
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
        tab.ws.close();
      }
    } finally {
      await polling.close();
    }
  });
});
