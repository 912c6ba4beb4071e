import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DateTime } from 'luxon';
import { snoozeInstant, withSnooze, type SnoozeUntil } from '../../domain/snooze.js';
import type { BusinessCalendar } from '../../domain/business-days.js';

/**
 * When a snooze ends (domain/snooze.ts), read in the owner's zone: the presets against a table of
 * moments (a Friday, the eve of a holiday, a DST change, a zone far from Paris), an explicit
 * instant; and the snoozes a dossier keeps, in firing order, one per notification.
 */
const eight = { hour: 8, minute: 0 };
const easter2027: BusinessCalendar = {
  name: 'FR',
  from: '2027-02-01',
  to: '2027-04-30',
  closed: [{ date: '2027-03-29', name: 'Lundi de Pâques' }],
};

function at(choice: SnoozeUntil, now: string, zone = 'Europe/Paris', calendar?: BusinessCalendar): string {
  const instant = snoozeInstant(choice, {
    now: Date.parse(now),
    timeZone: zone,
    reminderTime: eight,
    ...(calendar && { calendar }),
  });
  return DateTime.fromISO(instant, { zone }).toFormat('ccc yyyy-MM-dd HH:mm');
}

describe('snooze instants', () => {
  const cases: Array<[string, SnoozeUntil, string, string, BusinessCalendar | undefined, string]> = [
    [
      'tomorrow, from a Friday afternoon',
      { preset: 'tomorrow' },
      '2027-03-26T15:00:00Z',
      'Europe/Paris',
      undefined,
      'Sat 2027-03-27 08:00',
    ],
    [
      'next business day, from a Friday, over the weekend and Easter Monday',
      { preset: 'next-business-day' },
      '2027-03-26T15:00:00Z',
      'Europe/Paris',
      easter2027,
      'Tue 2027-03-30 08:00',
    ],
    [
      'next business day past the calendar’s span: weekends still closed',
      { preset: 'next-business-day' },
      '2027-04-30T15:00:00Z',
      'Europe/Paris',
      easter2027,
      'Mon 2027-05-03 08:00',
    ],
    [
      'next business day without a calendar: weekends only',
      { preset: 'next-business-day' },
      '2027-03-26T15:00:00Z',
      'Europe/Paris',
      undefined,
      'Mon 2027-03-29 08:00',
    ],
    [
      'tomorrow across the spring change: 08:00 summer time',
      { preset: 'tomorrow' },
      '2027-03-27T20:00:00Z',
      'Europe/Paris',
      undefined,
      'Sun 2027-03-28 08:00',
    ],
    [
      'in 2 hours across the spring change: two real hours',
      { preset: 'in-2-hours' },
      '2027-03-28T00:30:00Z',
      'Europe/Paris',
      undefined,
      'Sun 2027-03-28 04:30',
    ],
    [
      'tomorrow in Tokyo: the owner’s tomorrow, not Paris’s',
      { preset: 'tomorrow' },
      '2027-03-26T16:00:00Z',
      'Asia/Tokyo',
      undefined,
      'Sun 2027-03-28 08:00',
    ],
    [
      'an explicit instant, as given',
      { until: '2027-04-02T10:15:00Z' },
      '2027-03-26T15:00:00Z',
      'Europe/Paris',
      undefined,
      'Fri 2027-04-02 12:15',
    ],
  ];
  for (const [name, choice, now, zone, calendar, want] of cases) {
    it(name, () => assert.equal(at(choice, now, zone, calendar), want));
  }

  it('keeps one snooze per notification (the latest), in firing order, each keyed by its call’s event id', () => {
    const base = { userId: 'u1', type: 'deadline_reminder' as const, kind: 'j-1' };
    let snoozed = withSnooze([], 'D-1', {
      ...base,
      eventId: 'e1',
      notificationId: '10',
      at: '2027-04-02T06:00:00Z',
    });
    snoozed = withSnooze(snoozed, 'D-1', {
      ...base,
      eventId: 'e2',
      notificationId: '11',
      at: '2027-04-01T06:00:00Z',
    });
    snoozed = withSnooze(snoozed, 'D-1', {
      ...base,
      eventId: 'e:3',
      notificationId: '10',
      at: '2027-03-31T06:00:00Z',
    });
    assert.deepEqual(
      snoozed.map((s) => [s.notificationId, s.at, s.idempotencyKey]),
      [
        ['10', '2027-03-31T06:00:00Z', 'snooze:D-1:10:e%3A3'],
        ['11', '2027-04-01T06:00:00Z', 'snooze:D-1:11:e2'],
      ],
    );
  });
});
