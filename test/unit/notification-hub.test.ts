import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setImmediate as nextIteration } from 'node:timers/promises';
import { NotificationHub, type LiveBatch, type LiveNotification } from '../../server/hub/notification-hub.js';

/** The hub alone (a pure part: no socket, no database). */

const notification = (id: number) => ({ id: String(id), json: `{"id":"${id}"}` });
/** Counts with this unread count (the other states at zero). */
const counts = (unread: number) => ({ unread, unseen: 0, archived: 0, lastSeenId: '0' });

/** A batch's events as short labels: a notification's id, or `unread=N`. */
const labels = (batch: LiveBatch): string[] =>
  batch.map((event) => ('seq' in event ? event.id : `unread=${event.counts.unread}`));

const notificationsOf = (batch: LiveBatch | undefined): LiveNotification[] =>
  (batch ?? []).filter((event): event is LiveNotification => 'seq' in event);

describe('notification hub', () => {
  it("emits a user's notifications of one event-loop iteration as one batch, in order, framed once", async () => {
    const hub = new NotificationHub();
    const tabs = [hub.connect('alice'), hub.connect('alice')];
    const received: LiveBatch[][] = tabs.map(() => []);
    tabs.forEach((tab, index) => tab.notifications.subscribe((batch) => received[index]!.push(batch)));
    const other: LiveBatch[] = [];
    hub.connect('bob').notifications.subscribe((batch) => other.push(batch));

    for (const id of [1, 2, 3]) hub.publish('alice', notification(id));
    hub.publish('bob', notification(4));
    assert.equal(received[0]!.length, 0, 'nothing before the iteration ends');
    await nextIteration();

    for (const batches of received) {
      assert.equal(batches.length, 1);
      assert.deepEqual(
        notificationsOf(batches[0]).map((live) => live.seq),
        [1n, 2n, 3n],
      );
      assert.equal(
        notificationsOf(batches[0])[0]!.frame.toString(),
        '{"type":"notification","notification":{"id":"1"}}',
      );
    }
    // Both tabs get the very same frame: encoded once per notification, not once per socket.
    assert.equal(notificationsOf(received[0]![0])[0]!.frame, notificationsOf(received[1]![0])[0]!.frame);
    assert.deepEqual(other.map(labels), [['4']]);

    hub.publish('alice', notification(5));
    await nextIteration();
    assert.deepEqual(
      received[0]!.map((batch) => batch.length),
      [3, 1],
    );
  });

  it('drops an id at or below the last one published to the user (a catch-up never repeats)', async () => {
    const hub = new NotificationHub();
    const ids: string[] = [];
    hub.connect('alice').notifications.subscribe((batch) => ids.push(...labels(batch)));
    for (const id of [10, 11, 11, 9, 12]) hub.publish('alice', notification(id));
    await nextIteration();
    hub.publish('alice', notification(12));
    hub.publish('alice', notification(13));
    await nextIteration();
    assert.deepEqual(ids, ['10', '11', '12', '13']);
  });

  it('puts an unread count in order with the notifications around it', async () => {
    const hub = new NotificationHub();
    const batches: LiveBatch[] = [];
    hub.connect('alice').notifications.subscribe((batch) => batches.push(batch));
    hub.publish('alice', notification(1));
    hub.publishCounts('alice', counts(0), { latestId: 1n, version: 4n });
    hub.publish('alice', notification(2));
    hub.publishCounts('bob', counts(3)); // offline: nothing kept
    await nextIteration();
    assert.deepEqual(batches.map(labels), [['1', 'unread=0', '2']]);
    const [, unread] = batches[0]!;
    assert.deepEqual(JSON.parse(String(unread!.frame)), {
      type: 'unread_count',
      count: 0,
      unseen: 0,
      archived: 0,
      lastSeenId: '0',
      latestId: '1',
      version: '4',
    });
  });

  it('keeps nothing for a user without sockets, nor what was pending when the last socket left', async () => {
    const hub = new NotificationHub();
    hub.publish('nobody', notification(1));
    const tab = hub.connect('alice');
    let emitted = 0;
    const subscription = tab.notifications.subscribe(() => (emitted += 1));
    hub.publish('alice', notification(2));
    subscription.unsubscribe();
    tab.release();
    await nextIteration();
    assert.equal(emitted, 0);
    assert.equal(hub.usersOnline, 0);
    assert.deepEqual(hub.catchUpCursors(), []);
  });

  it("starts a LISTEN catch-up at the user's lowest known position, so no tab misses what the outage hid", () => {
    const hub = new NotificationHub();
    hub.connect('alice');
    hub.connect('bob');
    hub.connect('carol');
    // Alice's first tab saw 10 live; during an outage, 11 commits and her second tab opens
    // when the database's newest is 11: the catch-up must still start after 10.
    hub.publish('alice', notification(10));
    hub.noteLatest('alice', 11n);
    // Bob's first tab opened when the database's newest was 20: nothing published since.
    hub.noteLatest('bob', 20n);
    hub.noteLatest('bob', 25n);
    // Carol's position is unknown until her tab has read it: no catch-up for her yet.
    assert.deepEqual(hub.catchUpCursors(), [
      { userId: 'alice', after: 10n },
      { userId: 'bob', after: 20n },
    ]);
    hub.publish('bob', notification(26));
    assert.deepEqual(hub.catchUpCursors()[1], { userId: 'bob', after: 26n });
  });

  describe('dated counts: counts older than what the tabs have are dropped', () => {
    type Step = { notification: number } | { unread: number; latestId?: number; version?: number };
    const cases: Array<{ name: string; steps: Step[]; expected: string[] }> = [
      {
        name: 'the catch-up count, then a held one of before a notification already sent',
        steps: [
          { notification: 3 },
          { unread: 1, latestId: 3 },
          { unread: 0, latestId: 2 },
          { notification: 3 },
        ],
        expected: ['3', 'unread=1'],
      },
      {
        name: 'a count missing a notification already published',
        steps: [{ notification: 5 }, { unread: 4, latestId: 4 }],
        expected: ['5'],
      },
      {
        name: 'same notifications, an older version: dropped, whatever its count',
        steps: [
          { unread: 2, latestId: 7, version: 5 },
          { unread: 3, latestId: 7, version: 4 },
          { unread: 1, latestId: 7, version: 6 },
        ],
        expected: ['unread=2', 'unread=1'],
      },
      {
        name: 'same notifications, a newer version with a higher count (an unarchive): published',
        steps: [
          { unread: 1, latestId: 7, version: 5 },
          { unread: 2, latestId: 7, version: 6 },
          { unread: 1, latestId: 7, version: 5 },
        ],
        expected: ['unread=1', 'unread=2'],
      },
      {
        name: 'a newer notification with an older version cannot happen; a newer id is newer',
        steps: [
          { unread: 1, latestId: 7, version: 5 },
          { notification: 8 },
          { unread: 2, latestId: 8, version: 5 },
        ],
        expected: ['unread=1', '8', 'unread=2'],
      },
      {
        name: 'same count again: harmless, published',
        steps: [
          { unread: 2, latestId: 7 },
          { unread: 2, latestId: 7 },
        ],
        expected: ['unread=2', 'unread=2'],
      },
      {
        name: 'a newer notification allows a higher count',
        steps: [{ unread: 0, latestId: 7 }, { notification: 8 }, { unread: 1, latestId: 8 }],
        expected: ['unread=0', '8', 'unread=1'],
      },
      {
        name: 'a user without any notification yet (latestId 0)',
        steps: [{ unread: 0, latestId: 0 }, { notification: 1 }, { unread: 0, latestId: 0 }],
        expected: ['unread=0', '1'],
      },
      {
        name: 'an undated count (polling feed) is always published',
        steps: [{ notification: 5 }, { unread: 9 }, { unread: 4, latestId: 5 }, { unread: 7 }],
        expected: ['5', 'unread=9', 'unread=4', 'unread=7'],
      },
    ];
    for (const { name, steps, expected } of cases) {
      it(name, async () => {
        const hub = new NotificationHub();
        const events: string[] = [];
        hub.connect('alice').notifications.subscribe((batch) => events.push(...labels(batch)));
        for (const step of steps) {
          if ('notification' in step) hub.publish('alice', notification(step.notification));
          else
            hub.publishCounts(
              'alice',
              counts(step.unread),
              step.latestId === undefined
                ? undefined
                : { latestId: BigInt(step.latestId), version: BigInt(step.version ?? 0) },
            );
        }
        await nextIteration();
        assert.deepEqual(events, expected);
      });
    }
  });
});
