import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UnreadCountTracker } from '../../web/client/unread-count.js';

/**
 * The client library's unread count (web/client/unread-count.ts): the server's count, plus the
 * unread live notifications after it; a recount asked when a notification came while the count
 * could not account for it (before the count, during a catch-up); the counts that answer this
 * tab's marks shared with the other tabs.
 */

type Step =
  | ['connecting', { resuming: boolean }]
  | ['counted', number, boolean]
  | ['resumed']
  | ['received', 'unread' | 'read']
  | ['recount', boolean]
  | ['markSent']
  | ['closed']
  | ['fromOtherTab', number]
  | ['forget'];

const table: Array<{ name: string; steps: Step[]; values: Array<number | undefined> }> = [
  {
    name: 'live: each unread notification after the count adds one, a read one nothing',
    steps: [
      ['connecting', { resuming: false }],
      ['counted', 3, false],
      ['received', 'unread'],
      ['received', 'read'],
      ['received', 'unread'],
      ['recount', false],
    ],
    values: [undefined, 3, 4, 5],
  },
  {
    name: 'a notification before the count: a recount once the count has come',
    steps: [
      ['connecting', { resuming: false }],
      ['received', 'unread'],
      ['recount', false],
      ['counted', 3, false],
      ['recount', true],
      ['recount', false],
    ],
    values: [undefined, 3],
  },
  {
    name: 'a catch-up: nothing added, a recount after resumed',
    steps: [
      ['connecting', { resuming: true }],
      ['counted', 2, false],
      ['received', 'unread'],
      ['received', 'unread'],
      ['recount', false],
      ['resumed'],
      ['recount', true],
      ['received', 'unread'],
    ],
    values: [undefined, 2, 3],
  },
  {
    name: 'a catch-up that brought nothing: no recount',
    steps: [['connecting', { resuming: true }], ['counted', 2, false], ['resumed'], ['recount', false]],
    values: [undefined, 2],
  },
  {
    name: 'a new socket forgets the uncertainty of the last one (its count comes again)',
    steps: [
      ['connecting', { resuming: false }],
      ['received', 'unread'],
      ['connecting', { resuming: false }],
      ['counted', 1, false],
      ['recount', false],
    ],
    values: [undefined, 1],
  },
  {
    name: 'the counts that answer our marks are shared, the others not',
    steps: [
      ['connecting', { resuming: false }],
      ['counted', 5, false],
      ['markSent'],
      ['markSent'],
      ['counted', 4, true],
      ['counted', 3, true],
      ['counted', 3, false],
    ],
    values: [undefined, 5, 4, 3, 3],
  },
  {
    name: 'a socket lost owes no count for its marks',
    steps: [
      ['connecting', { resuming: false }],
      ['markSent'],
      ['closed'],
      ['connecting', { resuming: false }],
      ['counted', 7, false],
    ],
    values: [undefined, 7],
  },
  {
    name: "another tab's count, and another user's (unknown until it comes)",
    steps: [['fromOtherTab', 8], ['forget'], ['connecting', { resuming: false }], ['counted', 1, false]],
    values: [undefined, 8, undefined, 1],
  },
];

describe('client unread count', () => {
  for (const { name, steps, values } of table) {
    it(name, () => {
      const tracker = new UnreadCountTracker();
      const seen: Array<number | undefined> = [];
      tracker.count$.subscribe((count) => seen.push(count));
      steps.forEach((step, index) => {
        const at = `step ${index + 1}: ${step[0]}`;
        if (step[0] === 'connecting') tracker.connecting(step[1]);
        else if (step[0] === 'counted') assert.equal(tracker.counted({ count: step[1] }), step[2], at);
        else if (step[0] === 'resumed') tracker.resumed();
        else if (step[0] === 'received')
          tracker.received({ readAt: step[1] === 'read' ? '2026-01-01T00:00:00Z' : null });
        else if (step[0] === 'recount') assert.equal(tracker.takeRecount(), step[1], at);
        else if (step[0] === 'markSent') tracker.markSent();
        else if (step[0] === 'closed') tracker.closed();
        else if (step[0] === 'fromOtherTab') tracker.fromOtherTab({ count: step[1] });
        else tracker.forget();
      });
      assert.deepEqual(seen, values);
      assert.equal(tracker.value, values.at(-1));
    });
  }
});

describe('client counts per inbox state', () => {
  const frame = (count: number, latestId: string, version: string, unseen = 0, archived = 0) => ({
    count,
    unseen,
    archived,
    lastSeenId: '0',
    latestId,
    version,
  });

  it("ignores a frame dated before the last one applied (another tab's, shared late)", () => {
    const tracker = new UnreadCountTracker();
    tracker.connecting({ resuming: false });
    tracker.counted(frame(2, '10', '7', 1, 3));
    tracker.fromOtherTab(frame(5, '10', '6', 4, 0)); // an older version of the same notifications
    tracker.fromOtherTab(frame(1, '9', '9', 0, 0)); // an older newest id
    assert.deepEqual(tracker.counts$.value, { unread: 2, unseen: 1, archived: 3, lastSeenId: '0' });
    assert.equal(tracker.value, 2);
    // An unarchive: the same notifications, a newer version, a higher count.
    tracker.fromOtherTab(frame(3, '10', '8', 1, 2));
    assert.deepEqual(tracker.counts$.value, { unread: 3, unseen: 1, archived: 2, lastSeenId: '0' });
  });

  it('a live notification after the counts is unread and new; a frame without states leaves them unknown', () => {
    const tracker = new UnreadCountTracker();
    tracker.connecting({ resuming: false });
    tracker.counted(frame(0, '3', '1'));
    tracker.received({ readAt: null });
    assert.deepEqual(tracker.counts$.value, { unread: 1, unseen: 1, archived: 0, lastSeenId: '0' });
    tracker.forget();
    tracker.connecting({ resuming: false });
    tracker.counted({ count: 4 }); // a server without inbox states
    assert.equal(tracker.value, 4);
    assert.equal(tracker.counts$.value, undefined);
  });
});
