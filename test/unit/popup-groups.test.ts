import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NotifyNotification } from '../../web/client/wire.js';
import {
  POPUP_GROUP_MAX_MS,
  POPUP_GROUP_QUIET_MS,
  POPUP_GROUP_TITLES,
  POPUP_TITLE_CHARS,
  PopupGrouper,
  type PopupClock,
  popupText,
  shortTitle,
} from '../../web/page/popup-groups.js';

/**
 * The bell's grouped popups (web/page/popup-groups.ts) on a fake clock: which arrivals make one
 * popup, when it is shown, and what it says.
 */

/** A clock driven by the test: `advance` runs the timers due, in order, before the next arrival. */
class FakeClock implements PopupClock {
  private time = 0;
  private timers = new Map<number, { at: number; run: () => void }>();
  private nextHandle = 1;

  now(): number {
    return this.time;
  }

  setTimeout(run: () => void, ms: number): unknown {
    const handle = this.nextHandle++;
    this.timers.set(handle, { at: this.time + ms, run });
    return handle;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  /** Moves to `to`, running every timer due by then (at its own instant). */
  advance(to: number): void {
    for (;;) {
      const due = [...this.timers.entries()]
        .filter(([, timer]) => timer.at <= to)
        .sort(([, a], [, b]) => a.at - b.at)[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.time = due[1].at;
      due[1].run();
    }
    this.time = to;
  }

  get pending(): number {
    return this.timers.size;
  }
}

let nextId = 100;
const notification = (fields: Partial<NotifyNotification> = {}): NotifyNotification => {
  const id = String(nextId++);
  return {
    id,
    userId: 'u-1',
    type: 'deadline_reminder',
    kind: 'j-0',
    dossierId: `D-${id}`,
    title: `Échéance aujourd’hui : Dossier ${id}`,
    body: `Le dossier ${id} arrive à échéance aujourd’hui.`,
    data: {},
    createdAt: '2027-03-30T06:00:00.000Z',
    readAt: null,
    archivedAt: null,
    ...fields,
  };
};

const QUIET = POPUP_GROUP_QUIET_MS;
const MAX = POPUP_GROUP_MAX_MS;

/**
 * Arrivals (ms after the first; `type` other than the herd's when given) and the popups they make:
 * the arrivals' indexes in each, and when each is shown.
 */
const patterns: Array<{
  name: string;
  arrivals: Array<number | [number, NotifyNotification['type']]>;
  popups: Array<{ at: number; of: number[] }>;
}> = [
  {
    name: 'a lone reminder: its own popup, once the window closes',
    arrivals: [0],
    popups: [{ at: QUIET, of: [0] }],
  },
  {
    name: 'the 08:00 herd in one burst: one popup',
    arrivals: [0, 0, 0],
    popups: [{ at: QUIET, of: [0, 1, 2] }],
  },
  {
    name: 'a few seconds apart, each within the quiet time of the last: one popup',
    arrivals: [0, 1_500, 3_000, 4_200],
    popups: [{ at: 4_200 + QUIET, of: [0, 1, 2, 3] }],
  },
  {
    name: 'live, then the rest in a catch-up burst after a reconnect: one popup',
    arrivals: [0, 300, 1_800, 1_800, 1_800],
    popups: [{ at: 1_800 + QUIET, of: [0, 1, 2, 3, 4] }],
  },
  {
    name: 'past the quiet time: two popups',
    arrivals: [0, QUIET + 500],
    popups: [
      { at: QUIET, of: [0] },
      { at: 2 * QUIET + 500, of: [1] },
    ],
  },
  {
    name: 'arriving as the window closes: the window closed first (the next popup)',
    arrivals: [0, QUIET],
    popups: [
      { at: QUIET, of: [0] },
      { at: 2 * QUIET, of: [1] },
    ],
  },
  {
    name: 'a trickle never waits past the longest window after its first',
    arrivals: [0, 1_900, 3_800, 5_700, 7_600, 9_500, 11_400],
    popups: [
      { at: MAX, of: [0, 1, 2, 3, 4, 5] },
      { at: 11_400 + QUIET, of: [6] },
    ],
  },
  {
    name: 'an alert and reminders together: one popup',
    arrivals: [[0, 'new_alert'], 200, 400],
    popups: [{ at: 400 + QUIET, of: [0, 1, 2] }],
  },
  {
    name: 'a dossier update or the daily report pops up at once, alone, and leaves the window as it was',
    arrivals: [0, [500, 'dossier_update'], 900, [1_000, 'daily_report']],
    popups: [
      { at: 500, of: [1] },
      { at: 1_000, of: [3] },
      { at: 900 + QUIET, of: [0, 2] },
    ],
  },
];

describe('grouped popups: the window', () => {
  for (const pattern of patterns)
    it(pattern.name, () => {
      const clock = new FakeClock();
      const shown: Array<{ at: number; ids: string[] }> = [];
      const grouper = new PopupGrouper<NotifyNotification>(
        (batch) => shown.push({ at: clock.now(), ids: batch.map((n) => n.id) }),
        clock,
      );
      const arrived = pattern.arrivals.map((arrival) => {
        const [at, type] = typeof arrival === 'number' ? [arrival, undefined] : arrival;
        return { at, notification: notification(type ? { type } : {}) };
      });
      for (const { at, notification: arriving } of arrived) {
        clock.advance(at);
        grouper.add(arriving);
      }
      clock.advance(60_000);
      assert.deepEqual(
        shown,
        pattern.popups.map(({ at, of }) => ({ at, ids: of.map((index) => arrived[index]!.notification.id) })),
      );
      assert.equal(clock.pending, 0, 'no timer left behind');
    });

  it('stop drops the window without showing it', () => {
    const clock = new FakeClock();
    const shown: string[][] = [];
    const grouper = new PopupGrouper<NotifyNotification>(
      (batch) => shown.push(batch.map((n) => n.id)),
      clock,
    );
    grouper.add(notification());
    grouper.stop();
    clock.advance(60_000);
    assert.deepEqual(shown, []);
    assert.equal(clock.pending, 0);
  });
});

describe('grouped popups: the text', () => {
  it('a lone notification is its own popup, tagged with its id as before grouping', () => {
    const lone = notification({
      type: 'new_alert',
      kind: 'overdue',
      title: 'En retard',
      body: 'Depuis hier.',
    });
    assert.deepEqual(popupText([lone]), {
      title: 'En retard',
      body: 'Depuis hier.',
      tag: `normx-notify-${lone.id}`,
    });
  });

  const titles: Array<{ name: string; batch: Array<Partial<NotifyNotification>>; title: string }> = [
    { name: 'reminders of the day', batch: [{}, {}, {}], title: '3 échéances aujourd’hui' },
    { name: 'reminders of several days', batch: [{}, { kind: 'j-1' }], title: '2 rappels d’échéance' },
    {
      name: 'alerts only',
      batch: [
        { type: 'new_alert', kind: 'overdue' },
        { type: 'new_alert', kind: 'urgent' },
      ],
      title: '2 alertes',
    },
    {
      name: 'reminders and one alert',
      batch: [{}, {}, { type: 'new_alert', kind: 'overdue_critical' }],
      title: '2 échéances aujourd’hui et 1 alerte',
    },
    {
      name: 'one reminder and alerts',
      batch: [
        { kind: 'j-7' },
        { type: 'new_alert', kind: 'overdue' },
        { type: 'new_alert', kind: 'overdue' },
      ],
      title: '1 rappel d’échéance et 2 alertes',
    },
  ];
  for (const { name, batch, title } of titles)
    it(`names the count: ${name}`, () => {
      assert.equal(popupText(batch.map((fields) => notification(fields))).title, title);
    });

  it('lists the titles in arrival order, and the ids of the batch in its tag', () => {
    const batch = [
      notification({ title: 'Un' }),
      notification({ title: 'Deux' }),
      notification({ title: 'Trois' }),
    ];
    const text = popupText(batch);
    assert.equal(text.body, 'Un\nDeux\nTrois');
    assert.equal(text.tag, `normx-notify-${batch[0]!.id}-${batch[2]!.id}`);
  });

  it(`lists ${POPUP_GROUP_TITLES} titles at most, then how many others`, () => {
    const batch = Array.from({ length: 7 }, (_, index) => notification({ title: `Titre ${index + 1}` }));
    assert.equal(popupText(batch).body, 'Titre 1\nTitre 2\nTitre 3\nTitre 4\net 3 autres');
    assert.equal(popupText(batch.slice(0, 5)).body, 'Titre 1\nTitre 2\nTitre 3\nTitre 4\net 1 autre');
    assert.equal(popupText(batch.slice(0, 4)).body, 'Titre 1\nTitre 2\nTitre 3\nTitre 4');
  });

  it(`cuts a title longer than ${POPUP_TITLE_CHARS} characters with "…", never inside a character`, () => {
    const exact = 'x'.repeat(POPUP_TITLE_CHARS);
    assert.equal(shortTitle(exact), exact);
    const long = `Échéance aujourd’hui : ${'Bilan consolidé '.repeat(10)}`;
    const cut = shortTitle(long);
    assert.equal([...cut].length <= POPUP_TITLE_CHARS, true, cut);
    assert.ok(cut.endsWith('…') && long.startsWith(cut.slice(0, -1)), cut);
    // An emoji (two UTF-16 units) across the cut stays whole or goes whole.
    const emoji = `${'a'.repeat(POPUP_TITLE_CHARS - 2)}📅📅📅`;
    assert.equal(shortTitle(emoji), `${'a'.repeat(POPUP_TITLE_CHARS - 2)}📅…`);
    assert.equal(popupText([notification({ title: long }), notification()]).body.split('\n')[0], cut);
  });

  it('refuses an empty batch', () => {
    assert.throws(() => popupText([]), /empty batch/);
  });
});
