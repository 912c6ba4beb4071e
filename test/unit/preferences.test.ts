import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  deliveryOf,
  inQuietHours,
  isPreferenceKind,
  NAMED_KINDS,
  preferenceIssues,
  preferenceKinds,
  preferencesFrom,
  type NotificationPreferences,
} from '../../domain/preferences.js';
import { RecentChanges } from '../../server/http/recent-changes.js';

/**
 * A user's preferences (domain/preferences.ts): how a notification of each kind reaches them at a
 * local minute (a table), quiet hours against a minute-by-minute model (property, seeded), what
 * the API refuses, a stored row read defensively; and the limit on reminder-hour changes.
 */

const prefs = (
  kinds: NotificationPreferences['kinds'],
  quietHours: NotificationPreferences['quietHours'] = null,
) => ({
  kinds,
  quietHours,
});
const at = (clock: string) => Number(clock.slice(0, 2)) * 60 + Number(clock.slice(3));
const night = { from: '22:00', to: '07:00' };

describe('delivery by preference', () => {
  const cases: Array<[string, NotificationPreferences, string, string, ReturnType<typeof deliveryOf>]> = [
    ['no preferences: bell and popup', prefs({}), 'j-7', '10:00', { bell: true, popup: true }],
    [
      'popup off for j-7',
      prefs({ 'j-7': { bell: true, popup: false } }),
      'j-7',
      '10:00',
      { bell: true, popup: false, silencedBy: 'preference' },
    ],
    [
      'popup off for j-7 leaves j-1 alone',
      prefs({ 'j-7': { bell: true, popup: false } }),
      'j-1',
      '10:00',
      { bell: true, popup: true },
    ],
    [
      'bell off: archived, no popup even if asked',
      prefs({ created: { bell: false, popup: true } }),
      'created',
      '10:00',
      { bell: false, popup: false, silencedBy: 'preference' },
    ],
    [
      'quiet hours over midnight, at 23:30',
      prefs({}, night),
      'j-0',
      '23:30',
      { bell: true, popup: false, silencedBy: 'quiet_hours' },
    ],
    [
      'quiet hours over midnight, at 06:59',
      prefs({}, night),
      'j-0',
      '06:59',
      { bell: true, popup: false, silencedBy: 'quiet_hours' },
    ],
    ['quiet hours end at 07:00 (excluded)', prefs({}, night), 'j-0', '07:00', { bell: true, popup: true }],
    [
      'quiet hours start at 22:00 (included)',
      prefs({}, night),
      'report',
      '22:00',
      { bell: true, popup: false, silencedBy: 'quiet_hours' },
    ],
    [
      'quiet hours in the day',
      prefs({}, { from: '12:00', to: '14:00' }),
      'urgent',
      '13:00',
      { bell: true, popup: false, silencedBy: 'quiet_hours' },
    ],
    [
      'overdue_critical in quiet hours still pops up',
      prefs({}, night),
      'overdue_critical',
      '02:00',
      { bell: true, popup: true },
    ],
    [
      'overdue_critical muted in a stored row: not muted',
      prefs({ overdue_critical: { bell: false, popup: false } }, night),
      'overdue_critical',
      '02:00',
      { bell: true, popup: true },
    ],
    [
      'bell off wins over quiet hours',
      prefs({ 'j-1': { bell: false, popup: false } }, night),
      'j-1',
      '23:00',
      { bell: false, popup: false, silencedBy: 'preference' },
    ],
  ];
  for (const [name, preferences, kind, clock, expected] of cases) {
    it(name, () => assert.deepEqual(deliveryOf(preferences, kind, at(clock)), expected));
  }
});

describe('quiet hours (property, against a minute-by-minute model)', () => {
  const seed = process.env.FC_SEED === undefined ? 20261202 : Number(process.env.FC_SEED);
  it('a minute is quiet exactly when walking from `from` towards `to` reaches it first', () => {
    const clock = fc
      .integer({ min: 0, max: 1439 })
      .map((m) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`);
    fc.assert(
      fc.property(clock, clock, fc.integer({ min: 0, max: 1439 }), (from, to, minute) => {
        fc.pre(from !== to);
        // The model: the minutes met walking forward from `from` until `to`, wrapping at midnight.
        const quiet = new Set<number>();
        for (let m = at(from); m !== at(to); m = (m + 1) % 1440) quiet.add(m);
        assert.equal(inQuietHours({ from, to }, minute), quiet.has(minute));
      }),
      { seed, numRuns: 300 },
    );
  });
  it('no quiet hours: never quiet', () => {
    for (let minute = 0; minute < 1440; minute += 7) assert.equal(inQuietHours(null, minute), false);
  });
});

describe('what the API refuses', () => {
  it('an unknown kind, a muted overdue_critical, an empty quiet span', () => {
    assert.deepEqual(
      preferenceIssues(
        prefs(
          {
            foo: { bell: true, popup: true },
            overdue_critical: { bell: true, popup: false },
            'j-1000': { bell: false, popup: false },
          },
          { from: '08:00', to: '08:00' },
        ),
      ).map((issue) => issue.path.join('.')),
      ['kinds.foo', 'kinds.overdue_critical', 'kinds.j-1000', 'quietHours.to'],
    );
  });
  it('overdue_critical left on, any j-N the offsets allow (0 to 999), every named kind: accepted', () => {
    assert.deepEqual(
      preferenceIssues(
        prefs(
          { overdue_critical: { bell: true, popup: true }, 'j-999': { bell: false, popup: false } },
          night,
        ),
      ),
      [],
    );
    for (const kind of [...NAMED_KINDS, 'j-0', 'j-7', 'j-30']) assert.ok(isPreferenceKind(kind), kind);
    for (const kind of ['j-01', 'j--1', 'j-1000', 'J-7', 'overdue ', ''])
      assert.ok(!isPreferenceKind(kind), kind);
  });
  it('the panel lists the service’s j-N, furthest first, then the named kinds', () => {
    assert.deepEqual(preferenceKinds([0, 7, 1, 7]).slice(0, 4), ['j-7', 'j-1', 'j-0', 'overdue']);
  });
});

describe('a stored row read defensively', () => {
  it('keeps what is valid, drops the rest, never mutes overdue_critical', () => {
    assert.deepEqual(
      preferencesFrom({
        kinds: {
          'j-7': { bell: true, popup: false },
          overdue_critical: { bell: false, popup: false },
          bogus: { bell: false, popup: false },
          'j-1': { bell: 'no', popup: false },
          'j-0': null,
        },
        quietHours: { from: '25:00', to: '07:00' },
      }),
      { kinds: { 'j-7': { bell: true, popup: false } }, quietHours: null },
    );
    assert.deepEqual(preferencesFrom({ kinds: [1, 2], quietHours: 'night' }), {
      kinds: {},
      quietHours: null,
    });
    assert.deepEqual(preferencesFrom(undefined), { kinds: {}, quietHours: null });
    assert.deepEqual(preferencesFrom({ kinds: {}, quietHours: night }).quietHours, night);
  });
});

describe('reminder hour changes per window', () => {
  it('at most `max` per key in the window, each key on its own, forgotten once the window passed', () => {
    let now = 0;
    const changes = new RecentChanges<string>({ max: 3, windowMs: 600_000, now: () => now });
    assert.deepEqual(
      ['07:00', '07:30', '08:00', '09:00'].map((hour) => changes.take('u1', hour)),
      [true, true, true, false],
    );
    assert.deepEqual(changes.last('u1'), { value: '08:00' }, 'the last accepted value, not the refused one');
    assert.equal(changes.take('u2', '07:00'), true);
    now = 100_000;
    assert.equal(changes.waitMs('u1'), 500_000, 'until the oldest of the three leaves the window');
    assert.equal(changes.waitMs('u2'), 0);
    now = 599_999;
    assert.equal(changes.take('u1', '10:00'), false);
    now = 600_001;
    assert.equal(changes.take('u1', '10:00'), true);
    now = 2_000_000;
    assert.equal(changes.last('u1'), undefined);
    assert.equal(changes.take('u3', '07:00'), true);
    assert.equal(changes.size, 1, 'keys whose changes all left the window are forgotten');
  });
});
