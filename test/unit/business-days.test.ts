import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DateTime } from 'luxon';
import { createBusinessCalendars } from '../../activities/business-calendar.js';
import { previousBusinessDay, type CalendarSetting } from '../../domain/business-days.js';
import { localDueDate, planReminders, type ReminderPolicy } from '../../domain/reminder-plan.js';
import type { Deadline } from '../../domain/deadline.js';
import { ownerProfile } from '../../client/dossier-schemas.js';
import { armForDeadline, rearmKeeping } from '../../domain/armed-reminders.js';
import { issuesOf } from '../../client/input-issues.js';

/**
 * Business days in the planner: a j-N that falls on a weekend, a public holiday (date-holidays,
 * France and its regions) or a firm's closed day comes on the previous business day at 08:00;
 * the overdue alerts keep their instants. Read in Paris time.
 */
const policy: ReminderPolicy = {
  reminderTime: { hour: 8, minute: 0 },
  offsetsDays: [7, 1, 0],
  criticalDelay: 'P3D',
};
const zone = 'Europe/Paris';
const calendars = createBusinessCalendars();
const FRANCE: CalendarSetting = { country: 'FR', closedDays: [] };
const MOSELLE: CalendarSetting = { country: 'FR', region: '57', closedDays: [] };

function plan(deadline: Deadline, setting: CalendarSetting | null, now = Date.parse('2026-12-01T00:00:00Z')) {
  const dueDay = localDueDate(deadline, zone).toISODate()!;
  const calendar = setting
    ? calendars.calendarFor(setting, { dueDay, offsetsDays: policy.offsetsDays })
    : undefined;
  return planReminders({ deadline, timeZone: zone, policy, now, ...(calendar && { calendar }) }).map((r) => ({
    kind: r.kind,
    at: DateTime.fromISO(r.at, { zone }).toFormat('ccc yyyy-MM-dd HH:mm'),
    ...(r.movedFrom && { movedFrom: `${r.movedFrom.date} ${r.movedFrom.reason}` }),
  }));
}

describe('reminders on business days', () => {
  const cases: Array<{
    name: string;
    deadline: Deadline;
    setting: CalendarSetting | null;
    want: ReturnType<typeof plan>;
  }> = [
    {
      name: 'a deadline on the Tuesday after Easter Monday: j-1 comes on the Friday before',
      deadline: { dueDate: '2027-03-30' },
      setting: FRANCE,
      want: [
        { kind: 'j-7', at: 'Tue 2027-03-23 08:00' },
        { kind: 'j-1', at: 'Fri 2027-03-26 08:00', movedFrom: '2027-03-29 Lundi de Pâques' },
        { kind: 'j-0', at: 'Tue 2027-03-30 08:00' },
        { kind: 'overdue', at: 'Wed 2027-03-31 00:00' },
        { kind: 'overdue_critical', at: 'Sat 2027-04-03 00:00' },
      ],
    },
    {
      name: 'j-7 of a deadline a week after Easter Monday avoids it, j-1 on a Sunday comes on Friday',
      deadline: { dueDate: '2027-04-05' },
      setting: FRANCE,
      want: [
        { kind: 'j-7', at: 'Fri 2027-03-26 08:00', movedFrom: '2027-03-29 Lundi de Pâques' },
        { kind: 'j-1', at: 'Fri 2027-04-02 08:00', movedFrom: '2027-04-04 Sunday' },
        { kind: 'j-0', at: 'Mon 2027-04-05 08:00' },
        { kind: 'overdue', at: 'Tue 2027-04-06 00:00' },
        { kind: 'overdue_critical', at: 'Fri 2027-04-09 00:00' },
      ],
    },
    {
      name: 'a deadline on 2 January: j-1 on New Year’s Day comes on 29 December (a Friday)',
      deadline: { dueDate: '2029-01-02' },
      setting: FRANCE,
      want: [
        { kind: 'j-7', at: 'Tue 2028-12-26 08:00' },
        { kind: 'j-1', at: 'Fri 2028-12-29 08:00', movedFrom: '2029-01-01 Nouvel An' },
        { kind: 'j-0', at: 'Tue 2029-01-02 08:00' },
        { kind: 'overdue', at: 'Wed 2029-01-03 00:00' },
        { kind: 'overdue_critical', at: 'Sat 2029-01-06 00:00' },
      ],
    },
    {
      name: 'in Moselle, 26 December is closed: the same deadline’s j-7 comes on Friday 22',
      deadline: { dueDate: '2029-01-02' },
      setting: MOSELLE,
      want: [
        { kind: 'j-7', at: 'Fri 2028-12-22 08:00', movedFrom: '2028-12-26 Lendemain de Noël' },
        { kind: 'j-1', at: 'Fri 2028-12-29 08:00', movedFrom: '2029-01-01 Nouvel An' },
        { kind: 'j-0', at: 'Tue 2029-01-02 08:00' },
        { kind: 'overdue', at: 'Wed 2029-01-03 00:00' },
        { kind: 'overdue_critical', at: 'Sat 2029-01-06 00:00' },
      ],
    },
    {
      name: 'a Sunday deadline: j-0 and j-1 both land on Friday, only j-0 comes; overdue stays at Monday 00:00',
      deadline: { dueDate: '2027-06-13' },
      setting: FRANCE,
      want: [
        { kind: 'j-7', at: 'Fri 2027-06-04 08:00', movedFrom: '2027-06-06 Sunday' },
        { kind: 'j-0', at: 'Fri 2027-06-11 08:00', movedFrom: '2027-06-13 Sunday' },
        { kind: 'overdue', at: 'Mon 2027-06-14 00:00' },
        { kind: 'overdue_critical', at: 'Thu 2027-06-17 00:00' },
      ],
    },
    {
      name: 'a dueAt on Saturday 07:00: j-0 comes on Friday 08:00, before the deadline',
      deadline: { dueAt: '2027-06-12T05:00:00Z' },
      setting: FRANCE,
      want: [
        { kind: 'j-7', at: 'Fri 2027-06-04 08:00', movedFrom: '2027-06-05 Saturday' },
        { kind: 'j-0', at: 'Fri 2027-06-11 08:00', movedFrom: '2027-06-12 Saturday' },
        { kind: 'overdue', at: 'Sat 2027-06-12 07:00' },
        { kind: 'overdue_critical', at: 'Tue 2027-06-15 07:00' },
      ],
    },
    {
      name: 'a firm closed for a fortnight: j-7 and j-1 both come on the Friday before it, once',
      deadline: { dueDate: '2027-08-16' },
      setting: {
        country: 'FR',
        closedDays: Array.from({ length: 10 }, (_, i) =>
          DateTime.fromISO('2027-08-02')
            .plus({ days: i + Math.floor(i / 5) * 2 })
            .toISODate()!,
        ),
      },
      want: [
        { kind: 'j-1', at: 'Fri 2027-07-30 08:00', movedFrom: '2027-08-15 Assomption' },
        { kind: 'j-0', at: 'Mon 2027-08-16 08:00' },
        { kind: 'overdue', at: 'Tue 2027-08-17 00:00' },
        { kind: 'overdue_critical', at: 'Fri 2027-08-20 00:00' },
      ],
    },
    {
      name: 'business days off: every reminder on its day, as before',
      deadline: { dueDate: '2027-04-05' },
      setting: null,
      want: [
        { kind: 'j-7', at: 'Mon 2027-03-29 08:00' },
        { kind: 'j-1', at: 'Sun 2027-04-04 08:00' },
        { kind: 'j-0', at: 'Mon 2027-04-05 08:00' },
        { kind: 'overdue', at: 'Tue 2027-04-06 00:00' },
        { kind: 'overdue_critical', at: 'Fri 2027-04-09 00:00' },
      ],
    },
  ];
  for (const { name, deadline, setting, want } of cases) {
    it(name, () => assert.deepEqual(plan(deadline, setting), want));
  }

  it('a reminder moved before now is skipped like any passed one', () => {
    // Saturday 10 April 2027, 09:00: the j-1 of Monday 12 moved to Friday 9, already past.
    const kinds = plan({ dueDate: '2027-04-12' }, FRANCE, Date.parse('2027-04-10T07:00:00Z')).map(
      (r) => r.kind,
    );
    assert.deepEqual(kinds, ['j-0', 'overdue', 'overdue_critical']);
  });

  it('a run of closed days longer than the calendar covers leaves the day where it was', () => {
    const calendar = {
      name: 'FR + closed days',
      from: '2027-01-01',
      to: '2027-03-01',
      closed: Array.from({ length: 59 }, (_, i) => ({
        date: DateTime.fromISO('2027-01-01').plus({ days: i }).toISODate()!,
        name: 'closed',
      })),
    };
    const day = DateTime.fromISO('2027-02-20T08:00', { zone });
    assert.equal(previousBusinessDay(day, calendar).day.toISODate(), '2027-02-20');
    assert.equal(previousBusinessDay(day, calendar).movedFrom, undefined);
  });

  it('the calendar lists only the closed days of its span, yearly firm days expanded, by date', () => {
    const calendar = calendars.calendarFor(
      { country: 'FR', closedDays: ['12-24', '2027-01-04'] },
      { dueDay: '2027-01-05', offsetsDays: [7, 1, 0] },
    );
    assert.deepEqual(calendar, {
      name: 'FR + closed days',
      from: '2026-11-14',
      to: '2027-02-05',
      closed: [
        { date: '2026-12-24', name: 'fermeture du cabinet' },
        { date: '2026-12-25', name: 'Noël' },
        { date: '2027-01-01', name: 'Nouvel An' },
        { date: '2027-01-04', name: 'fermeture du cabinet' },
      ],
    });
  });

  it("a user's calendar and reminder time in a profile: accepted, or refused naming the field", () => {
    for (const good of [
      { businessCalendar: { country: 'FR', region: '57', closedDays: ['12-24', '2027-08-13'] } },
      { businessCalendar: { country: 'DE' } },
      { businessCalendar: 'off' },
      { businessCalendar: null, reminderTime: null },
      { reminderTime: '09:30' },
    ]) {
      assert.ok(ownerProfile.safeParse(good).success, JSON.stringify(good));
    }
    for (const [bad, field] of [
      [{ businessCalendar: { country: 'XX' } }, 'businessCalendar'],
      [{ businessCalendar: { country: 'FR', region: '99' } }, 'businessCalendar'],
      [{ businessCalendar: { country: 'fr' } }, 'businessCalendar'],
      [{ businessCalendar: { country: 'FR', closedDays: ['2027-02-30'] } }, 'businessCalendar'],
      [{ businessCalendar: { country: 'FR', holidays: [] } }, 'businessCalendar'],
      [{ businessCalendar: 'on' }, 'businessCalendar'],
      [{ reminderTime: '8:00' }, 'reminderTime'],
      [{ reminderTime: '24:00' }, 'reminderTime'],
    ] as const) {
      const parsed = ownerProfile.safeParse(bad);
      assert.ok(!parsed.success, JSON.stringify(bad));
      const fields = issuesOf(parsed.error).map((issue) => issue.field);
      assert.ok(
        fields.some((name) => name.startsWith(field)),
        `${JSON.stringify(bad)}: ${JSON.stringify(fields)}`,
      );
    }
  });

  it('a j-1 that business days merged into j-0 comes back on its own when a re-plan parts them, and ends with j-0', () => {
    // Due Sunday 13 June 2027: j-0 and j-1 both on Friday 11, one reminder standing for both.
    const deadline = { dueDate: '2027-06-13' };
    const dossier = {
      id: 'D-1',
      title: 'T',
      ownerId: 'u1',
      urgent: false,
      status: 'open' as const,
      ...deadline,
    };
    const dueDay = localDueDate(deadline, zone).toISODate()!;
    const calendar = calendars.calendarFor(FRANCE, { dueDay, offsetsDays: policy.offsetsDays });
    const state = { dossier, context: { timeZone: zone, policy, calendar }, pending: [], sent: [] };
    const armed = armForDeadline(state, Date.parse('2027-06-01T00:00:00Z'));
    assert.deepEqual(
      armed.pending.map((r) => [r.kind, r.absorbs]),
      [
        ['j-7', undefined],
        ['j-0', ['j-1']],
        ['overdue', undefined],
        ['overdue_critical', undefined],
      ],
    );
    assert.deepEqual(armed.armed, ['j-7', 'j-0', 'j-1', 'overdue', 'overdue_critical']);
    // The owner turns business days off: j-1 is on Saturday again, and comes.
    const off = rearmKeeping({ ...state, ...armed, context: { timeZone: zone, policy } });
    assert.deepEqual(
      off.filter((r) => r.type === 'deadline_reminder').map((r) => `${r.kind} ${r.at}`),
      ['j-7 2027-06-06T06:00:00.000Z', 'j-1 2027-06-12T06:00:00.000Z', 'j-0 2027-06-13T06:00:00.000Z'],
    );
  });
});
