import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { openNodeTab, type NodeTab } from '../support/node-tabs.js';
import { startServerHarness, type ServerHarness } from '../support/notify-server.js';
import { waitFor } from '../support/wait.js';

/**
 * Marks made in the client library reach the database, whatever the network and the server's
 * rate limit do to them: the client library under Node against a real
 * server and PostgreSQL, with the server's default rate limit (10/s, burst 30).
 */

const harnesses: ServerHarness[] = [];
const tabs: NodeTab[] = [];
after(async () => {
  for (const tab of tabs) tab.close();
  for (const harness of harnesses) await harness.close();
});

async function serverWith(env: NodeJS.ProcessEnv = {}): Promise<ServerHarness> {
  const harness = await startServerHarness({ env });
  harnesses.push(harness);
  return harness;
}

function tabOf(harness: ServerHarness, user: string): NodeTab {
  const tab = openNodeTab({
    url: harness.url,
    getToken: () => harness.token(user),
    lastId: '0',
    backoff: { initialMs: 50, maxMs: 200 },
  });
  tabs.push(tab);
  return tab;
}

const unreadInDatabase = async (harness: ServerHarness, user: string): Promise<number> => {
  const rows = await harness.db.query<{ count: string }>(
    'select count(*) as count from notifications where user_id = $1 and read_at is null',
    [user],
  );
  return Number(rows[0]!.count);
};

describe('marks from the client library', () => {
  it('40 marks made offline, one click each, are all stored once back online', async () => {
    const harness = await serverWith();
    const user = 'odile';
    const ids: string[] = [];
    for (let index = 0; index < 40; index += 1) ids.push(await harness.notify(user, `Hors ligne ${index}`));
    const tab = tabOf(harness, user);
    await waitFor('the 40 notifications caught up', () => tab.notificationIds.length === 40);
    tab.setOffline(true);
    await waitFor('the tab reconnecting', () => tab.client.connectionState === 'reconnecting');
    for (const id of ids) tab.client.markRead([id]);
    tab.setOffline(false);
    let unread = -1;
    await waitFor(
      'every mark stored',
      async () => {
        unread = await unreadInDatabase(harness, user);
        return unread === 0;
      },
      { timeoutMs: 5000 },
    ).catch((error: Error) => {
      throw new Error(`${error.message}: ${unread} of 40 still unread in the database`, { cause: error });
    });
    assert.deepEqual(
      tab.errors.filter((error) => error.code === 'rate_limited'),
      [],
      'no mark refused: they went as one message',
    );
  });

  it('a mark the server refuses (rate_limited) is sent again until acknowledged', async () => {
    // One message per second, no burst: the second of two quick marks is refused.
    const harness = await serverWith({ WS_RATE_LIMIT_PER_SECOND: '1', WS_RATE_LIMIT_BURST: '1' });
    const user = 'pascal';
    const first = await harness.notify(user, 'Premier');
    const second = await harness.notify(user, 'Second');
    const tab = tabOf(harness, user);
    await waitFor('both notifications', () => tab.notificationIds.length === 2);
    await waitFor('the first socket settled', async () => {
      await new Promise((resolve) => setTimeout(resolve, 1100)); // the bucket refills
      return true;
    });
    tab.client.markRead([first]);
    await waitFor('the first mark stored', async () => (await unreadInDatabase(harness, user)) === 1);
    tab.client.markRead([second]);
    let unread = -1;
    await waitFor(
      'the second mark stored after the refusal',
      async () => {
        unread = await unreadInDatabase(harness, user);
        return unread === 0;
      },
      { timeoutMs: 5000 },
    ).catch((error: Error) => {
      throw new Error(`${error.message}: ${unread} still unread`, { cause: error });
    });
  });

  it('an id the server would refuse does not block the valid marks beside it', async () => {
    // Digits the old filter (/^\d{1,19}$/) took: above the bigint maximum, or with a leading zero.
    // The server refused the whole batch; the valid marks in it were never stored.
    const harness = await serverWith();
    const user = 'quentin';
    const ids: string[] = [];
    for (let index = 0; index < 5; index += 1) ids.push(await harness.notify(user, `Lot ${index}`));
    const tab = tabOf(harness, user);
    await waitFor('the 5 notifications caught up', () => tab.notificationIds.length === 5);
    tab.client.markRead([...ids, '9999999999999999999', '007']);
    let unread = -1;
    await waitFor(
      'the valid marks stored',
      async () => {
        unread = await unreadInDatabase(harness, user);
        return unread === 0;
      },
      { timeoutMs: 5000 },
    ).catch((error: Error) => {
      const codes = tab.errors.map((error) => error.code).join(', ');
      throw new Error(`${error.message}: ${unread} of 5 still unread; errors: ${codes}`, { cause: error });
    });
    // Reported at once as mark_failed naming them, never sent: the server refused nothing.
    assert.deepEqual(
      tab.errors.map((error) => error.code),
      ['mark_failed'],
      'the invalid ids reported, nothing refused by the server',
    );
    assert.match(tab.errors[0]!.message, /"9999999999999999999", "007"/);
  });
});
