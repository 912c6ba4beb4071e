import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Subject } from 'rxjs';
import { createDossierActivities } from '../../activities/dossier-activities.js';
import { loadConfig } from '../../config/config.js';
import { inActivity } from '../support/activity-context.js';
import { openSocket, startServerHarness, type ServerHarness } from '../support/notify-server.js';

/**
 * `npm start`'s embedded database (PGlite) does not deliver NOTIFY to its socket clients, so its
 * delivery server polls the table. The worker runs in the same process: each notification it
 * commits is announced in process too (`announced`), and the polling feed reads that user's new
 * rows at once instead of at its next pass. Here the poll is ten minutes apart: only the announce
 * can bring a frame within the test.
 */

const config = loadConfig({});
const committed = new Subject<string>();
let harness: ServerHarness;
const announcedTo: string[] = [];

before(async () => {
  harness = await startServerHarness({
    feed: { type: 'poll', intervalMs: 600_000, wake: committed },
  });
});
after(async () => {
  committed.complete();
  await harness?.close();
});

const deliver = (request: Record<string, unknown>) =>
  inActivity(
    createDossierActivities({
      orm: harness.db.orm,
      temporal: { client: {} as never, taskQueue: 'announce' },
      config,
      announced: (userId) => {
        announcedTo.push(userId);
        committed.next(userId);
      },
    }).deliverNotification,
    request as never,
  );

const request = (key: string, userId: string) => ({
  idempotencyKey: key,
  userId,
  type: 'new_alert',
  kind: 'urgent',
  dossier: {
    id: `d-${key}`,
    title: `Dossier ${key}`,
    ownerId: userId,
    dueAt: new Date(Date.now() + 86_400_000).toISOString(),
    urgent: true,
    status: 'open',
  },
});

describe('in-process announce (the polling feed of npm start)', () => {
  it('a stored notification reaches the open tab at once, the row committed before the announce', async () => {
    const tab = await openSocket(`${harness.wsUrl}/api/v1/ws/${await harness.token('ann-a')}`);
    const other = await openSocket(`${harness.wsUrl}/api/v1/ws/${await harness.token('ann-b')}`);
    try {
      for (const socket of [tab, other])
        await socket.waitFor('the unread count', (messages) =>
          messages.some((m) => m.type === 'unread_count'),
        );
      await deliver(request('ann-1', 'ann-a'));
      await deliver(request('ann-2', 'ann-a'));
      await tab.waitFor('both notifications, announced', () => tab.ids().length === 2, 10_000);
      const rows = await harness.db.query<{ id: string }>(
        "select id::text as id from notifications where user_id = 'ann-a' order by id",
      );
      assert.deepEqual(
        tab.ids(),
        rows.map((row) => row.id),
      );
      assert.deepEqual(other.ids(), [], "another user's tab gets nothing");
    } finally {
      tab.ws.close();
      other.ws.close();
    }
  });

  it('announces a notification once: a retry finds it stored and announces nothing', async () => {
    announcedTo.length = 0;
    await deliver(request('ann-3', 'ann-c'));
    await deliver(request('ann-3', 'ann-c'));
    assert.deepEqual(announcedTo, ['ann-c']);
  });

  it('a failing announce does not fail the delivery: the row is stored, the poll brings it', async () => {
    const row = await inActivity(
      createDossierActivities({
        orm: harness.db.orm,
        temporal: { client: {} as never, taskQueue: 'announce' },
        config,
        announced: () => {
          throw new Error('announce broke');
        },
      }).deliverNotification,
      request('ann-4', 'ann-d') as never,
    );
    assert.ok('created' in row && row.created, 'stored');
  });
});
