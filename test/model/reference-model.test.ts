import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { checkLives } from './check-lives.js';
import type { Life, LifeAction } from './life.js';
import { lifeArbitrary } from './life-generator.js';
import { expectedDeliveries, type Deadline } from './reference-model.js';

// Hand-computed examples: Paris is UTC+1 until Sunday 28 March 2027 02:00, then UTC+2 until
// Sunday 31 October 2027 03:00; Montréal is UTC-4 in May; Kathmandu is UTC+5:45.

const PARIS = 'Europe/Paris';
const ms = (iso: string) => Date.parse(iso);

/** The model's deliveries, in order, as `2027-05-10T08:00Z u1 dossier_update/created`. */
function deliveries(
  owners: Record<string, string>,
  steps: Array<[string, LifeAction]>,
  end: string,
  outages: Array<[string, string]> = [],
): string[] {
  const life: Life = {
    label: 'table',
    dossierId: 'D1',
    start: ms(steps[0]![0]),
    end: ms(end),
    owners,
    steps: steps.map(([at, action]) => ({ at: ms(at), action })),
    outages: outages.map(([from, to]) => ({ from: ms(from), to: ms(to) })),
  };
  return expectedDeliveries(life).map(
    (d) => `${new Date(d.at).toISOString().replace(':00.000Z', 'Z')} ${d.userId} ${d.type}/${d.kind}`,
  );
}

const create = (eventId: string, deadline: Deadline, more = {}) =>
  ({ type: 'upsert', eventId, title: 'Bilan', ownerId: 'u1', deadline, ...more }) as LifeAction;
const reschedule = (eventId: string, dueDate: string): LifeAction => ({
  type: 'reschedule',
  eventId,
  deadline: { dueDate },
});
const call = (type: 'markUrgent' | 'unmarkUrgent' | 'complete' | 'cancel' | 'reopen', eventId: string) =>
  ({ type, eventId }) as LifeAction;

/** Created 2027-05-10 10:00 Paris, due 20 May: reminders 08:00 Paris (06:00Z), overdue 21 May 00:00 Paris. */
const FULL_MAY_20 = [
  '2027-05-10T08:00Z u1 dossier_update/created',
  '2027-05-13T06:00Z u1 deadline_reminder/j-7',
  '2027-05-19T06:00Z u1 deadline_reminder/j-1',
  '2027-05-20T06:00Z u1 deadline_reminder/j-0',
  '2027-05-20T22:00Z u1 new_alert/overdue',
  '2027-05-23T22:00Z u1 new_alert/overdue_critical',
];

describe('reference model: hand-computed examples', () => {
  it('a Paris dossier created 10 days ahead: j-7, j-1, j-0 at 08:00, overdue at midnight, critical 3 days later', () => {
    const got = deliveries(
      { u1: PARIS },
      [['2027-05-10T08:00Z', create('e1', { dueDate: '2027-05-20' })]],
      '2027-06-01T00:00Z',
    );
    assert.deepEqual(got, FULL_MAY_20);
  });

  it('a dueAt at local midnight belongs to the day before (same reminders as that dueDate)', () => {
    const got = deliveries(
      { u1: PARIS },
      [['2027-05-10T08:00Z', create('e1', { dueAt: '2027-05-21T00:00:00+02:00' })]],
      '2027-06-01T00:00Z',
    );
    assert.deepEqual(got, FULL_MAY_20);
  });

  it('a dueAt at 07:00 local has no j-0; critical 3 days later at 07:00 local', () => {
    const got = deliveries(
      { u1: PARIS },
      [['2027-05-10T08:00Z', create('e1', { dueAt: '2027-05-20T07:00:00+02:00' })]],
      '2027-06-01T00:00Z',
    );
    assert.deepEqual(got, [
      '2027-05-10T08:00Z u1 dossier_update/created',
      '2027-05-13T06:00Z u1 deadline_reminder/j-7',
      '2027-05-19T06:00Z u1 deadline_reminder/j-1',
      '2027-05-20T05:00Z u1 new_alert/overdue',
      '2027-05-23T05:00Z u1 new_alert/overdue_critical',
    ]);
  });

  it('a dueAt seen from Kathmandu (UTC+5:45)', () => {
    const got = deliveries(
      { u1: 'Asia/Kathmandu' },
      [['2027-05-10T08:00Z', create('e1', { dueAt: '2027-05-20T12:00:00Z' })]],
      '2027-06-01T00:00Z',
    );
    assert.deepEqual(got, [
      '2027-05-10T08:00Z u1 dossier_update/created',
      '2027-05-13T02:15Z u1 deadline_reminder/j-7',
      '2027-05-19T02:15Z u1 deadline_reminder/j-1',
      '2027-05-20T02:15Z u1 deadline_reminder/j-0',
      '2027-05-20T12:00Z u1 new_alert/overdue',
      '2027-05-23T12:00Z u1 new_alert/overdue_critical',
    ]);
  });

  it('a DST week in March: due on the Tuesday after the clocks go forward and Easter Monday', () => {
    const got = deliveries(
      { u1: PARIS },
      [['2027-03-15T12:00Z', create('e1', { dueDate: '2027-03-30' })]],
      '2027-04-10T00:00Z',
    );
    assert.deepEqual(got, [
      '2027-03-15T12:00Z u1 dossier_update/created',
      '2027-03-23T07:00Z u1 deadline_reminder/j-7',
      // j-1 falls on Easter Monday (29 March): the Friday before, still in winter time.
      '2027-03-26T07:00Z u1 deadline_reminder/j-1',
      '2027-03-30T06:00Z u1 deadline_reminder/j-0',
      '2027-03-30T22:00Z u1 new_alert/overdue',
      '2027-04-02T22:00Z u1 new_alert/overdue_critical',
    ]);
  });

  it('due on a Sunday: j-7 and j-0 on the Fridays before, no j-1 (it lands on j-0’s Friday)', () => {
    const got = deliveries(
      { u1: PARIS },
      [['2027-03-15T12:00Z', create('e1', { dueDate: '2027-03-28' })]],
      '2027-04-10T00:00Z',
    );
    assert.deepEqual(got, [
      '2027-03-15T12:00Z u1 dossier_update/created',
      '2027-03-19T07:00Z u1 deadline_reminder/j-7',
      '2027-03-26T07:00Z u1 deadline_reminder/j-0',
      '2027-03-28T22:00Z u1 new_alert/overdue',
      '2027-03-31T22:00Z u1 new_alert/overdue_critical',
    ]);
  });

  it('critical across the March change: 3 local days, 71 hours', () => {
    const got = deliveries(
      { u1: PARIS },
      [['2027-03-15T12:00Z', create('e1', { dueDate: '2027-03-26' })]],
      '2027-04-10T00:00Z',
    );
    assert.deepEqual(got, [
      '2027-03-15T12:00Z u1 dossier_update/created',
      '2027-03-19T07:00Z u1 deadline_reminder/j-7',
      '2027-03-25T07:00Z u1 deadline_reminder/j-1',
      '2027-03-26T07:00Z u1 deadline_reminder/j-0',
      '2027-03-26T23:00Z u1 new_alert/overdue',
      '2027-03-29T22:00Z u1 new_alert/overdue_critical',
    ]);
  });

  it('critical across the October change: 3 local days, 73 hours', () => {
    const got = deliveries(
      { u1: PARIS },
      [['2027-10-20T12:00Z', create('e1', { dueDate: '2027-10-29' })]],
      '2027-11-10T00:00Z',
    );
    assert.deepEqual(got, [
      '2027-10-20T12:00Z u1 dossier_update/created',
      '2027-10-22T06:00Z u1 deadline_reminder/j-7',
      '2027-10-28T06:00Z u1 deadline_reminder/j-1',
      '2027-10-29T06:00Z u1 deadline_reminder/j-0',
      '2027-10-29T22:00Z u1 new_alert/overdue',
      '2027-11-01T23:00Z u1 new_alert/overdue_critical',
    ]);
  });

  it('created 3 days before: no j-7', () => {
    const got = deliveries(
      { u1: PARIS },
      [['2027-05-17T10:00Z', create('e1', { dueDate: '2027-05-20' })]],
      '2027-06-01T00:00Z',
    );
    assert.deepEqual(got, [
      '2027-05-17T10:00Z u1 dossier_update/created',
      '2027-05-19T06:00Z u1 deadline_reminder/j-1',
      '2027-05-20T06:00Z u1 deadline_reminder/j-0',
      '2027-05-20T22:00Z u1 new_alert/overdue',
      '2027-05-23T22:00Z u1 new_alert/overdue_critical',
    ]);
  });

  it('already 5 days late: overdue and critical at once, overdue first', () => {
    const got = deliveries(
      { u1: PARIS },
      [['2027-05-25T10:00Z', create('e1', { dueDate: '2027-05-20' })]],
      '2027-06-10T00:00Z',
    );
    assert.deepEqual(got, [
      '2027-05-25T10:00Z u1 dossier_update/created',
      '2027-05-25T10:00Z u1 new_alert/overdue',
      '2027-05-25T10:00Z u1 new_alert/overdue_critical',
    ]);
  });

  it('a reminder due inside an outage is sent when it ends', () => {
    const got = deliveries(
      { u1: PARIS },
      [['2027-05-17T10:00Z', create('e1', { dueDate: '2027-05-20' })]],
      '2027-05-21T00:00Z',
      [['2027-05-20T05:00Z', '2027-05-20T07:10Z']],
    );
    assert.deepEqual(got, [
      '2027-05-17T10:00Z u1 dossier_update/created',
      '2027-05-19T06:00Z u1 deadline_reminder/j-1',
      '2027-05-20T07:10Z u1 deadline_reminder/j-0',
      '2027-05-20T22:00Z u1 new_alert/overdue',
    ]);
  });

  it('a complete at 07:30 inside an outage that ends 08:30: no j-0', () => {
    const got = deliveries(
      { u1: PARIS },
      [
        ['2027-05-10T08:00Z', create('e1', { dueDate: '2027-05-20' })],
        ['2027-05-20T05:30Z', call('complete', 'e2')],
      ],
      '2027-06-01T00:00Z',
      [['2027-05-20T05:00Z', '2027-05-20T06:30Z']],
    );
    assert.deepEqual(got, [
      '2027-05-10T08:00Z u1 dossier_update/created',
      '2027-05-13T06:00Z u1 deadline_reminder/j-7',
      '2027-05-19T06:00Z u1 deadline_reminder/j-1',
      '2027-05-20T06:30Z u1 dossier_update/completed',
    ]);
  });

  it('a reschedule at 23:30 inside an outage to a later date: no overdue for the old date', () => {
    const got = deliveries(
      { u1: PARIS },
      [
        ['2027-05-18T10:00Z', create('e1', { dueDate: '2027-05-20' })],
        ['2027-05-20T21:30Z', reschedule('e2', '2027-05-25')],
      ],
      '2027-06-01T00:00Z',
      [['2027-05-20T21:00Z', '2027-05-20T23:00Z']],
    );
    assert.deepEqual(got, [
      '2027-05-18T10:00Z u1 dossier_update/created',
      '2027-05-19T06:00Z u1 deadline_reminder/j-1',
      '2027-05-20T06:00Z u1 deadline_reminder/j-0',
      '2027-05-20T23:00Z u1 dossier_update/rescheduled',
      '2027-05-24T06:00Z u1 deadline_reminder/j-1',
      '2027-05-25T06:00Z u1 deadline_reminder/j-0',
      '2027-05-25T22:00Z u1 new_alert/overdue',
      '2027-05-28T22:00Z u1 new_alert/overdue_critical',
    ]);
  });

  it('an assign at 07:55 processed at 08:30: j-0 goes to the new owner at 08:30', () => {
    const got = deliveries(
      { u1: PARIS, u2: PARIS },
      [
        ['2027-05-18T10:00Z', create('e1', { dueDate: '2027-05-20' })],
        ['2027-05-20T05:55Z', { type: 'assign', eventId: 'e2', ownerId: 'u2' }],
      ],
      '2027-06-01T00:00Z',
      [['2027-05-20T05:50Z', '2027-05-20T06:30Z']],
    );
    assert.deepEqual(got, [
      '2027-05-18T10:00Z u1 dossier_update/created',
      '2027-05-19T06:00Z u1 deadline_reminder/j-1',
      '2027-05-20T06:30Z u2 dossier_update/assigned',
      '2027-05-20T06:30Z u2 deadline_reminder/j-0',
      '2027-05-20T22:00Z u2 new_alert/overdue',
      '2027-05-23T22:00Z u2 new_alert/overdue_critical',
    ]);
  });

  const MONTREAL_AFTER_J1 = [
    '2027-05-18T10:00Z u1 dossier_update/created',
    '2027-05-19T06:00Z u1 deadline_reminder/j-1',
    '2027-05-20T12:00Z u1 deadline_reminder/j-0',
    '2027-05-21T04:00Z u1 new_alert/overdue',
    '2027-05-24T04:00Z u1 new_alert/overdue_critical',
  ];

  it("an owner's zone change Paris → Montréal moves j-0 to 08:00 Montréal, silently", () => {
    const got = deliveries(
      { u1: PARIS },
      [
        ['2027-05-18T10:00Z', create('e1', { dueDate: '2027-05-20' })],
        ['2027-05-19T12:00Z', { type: 'ownerZone', ownerId: 'u1', timeZone: 'America/Montreal' }],
      ],
      '2027-06-01T00:00Z',
    );
    assert.deepEqual(got, MONTREAL_AFTER_J1);
  });

  it('the same zone change carried by an update that changes nothing else: no notice', () => {
    const got = deliveries(
      { u1: PARIS },
      [
        ['2027-05-18T10:00Z', create('e1', { dueDate: '2027-05-20' })],
        ['2027-05-19T12:00Z', create('e2', { dueDate: '2027-05-20' }, { ownerTimeZone: 'America/Montreal' })],
      ],
      '2027-06-01T00:00Z',
    );
    assert.deepEqual(got, MONTREAL_AFTER_J1);
  });

  it('markUrgent before the create: created, then the urgent alert', () => {
    const got = deliveries(
      { u1: PARIS },
      [
        ['2027-05-10T08:00Z', call('markUrgent', 'e1')],
        ['2027-05-10T08:01Z', create('e2', { dueDate: '2027-06-30' })],
      ],
      '2027-05-12T00:00Z',
    );
    assert.deepEqual(got, [
      '2027-05-10T08:01Z u1 dossier_update/created',
      '2027-05-10T08:01Z u1 new_alert/urgent',
    ]);
  });

  it('an assign before the create applies right after it; reminders go to the new owner', () => {
    const got = deliveries(
      { u1: PARIS, u2: PARIS },
      [
        ['2027-05-17T09:00Z', { type: 'assign', eventId: 'e1', ownerId: 'u2' }],
        ['2027-05-17T10:00Z', create('e2', { dueDate: '2027-05-20' })],
      ],
      '2027-05-20T12:00Z',
    );
    assert.deepEqual(got, [
      '2027-05-17T10:00Z u1 dossier_update/created',
      '2027-05-17T10:00Z u2 dossier_update/assigned',
      '2027-05-19T06:00Z u2 deadline_reminder/j-1',
      '2027-05-20T06:00Z u2 deadline_reminder/j-0',
    ]);
  });

  it('calls for a dossier never created: nothing', () => {
    const got = deliveries(
      { u1: PARIS, u2: PARIS },
      [
        ['2027-05-17T09:00Z', call('markUrgent', 'e1')],
        ['2027-05-17T10:00Z', { type: 'assign', eventId: 'e2', ownerId: 'u2' }],
      ],
      '2027-06-20T12:00Z',
    );
    assert.deepEqual(got, []);
  });

  it('a repeated eventId gives one notice, even when the retry changes the state back', () => {
    const title = (eventId: string, t: string) => create(eventId, { dueDate: '2027-06-30' }, { title: t });
    const got = deliveries(
      { u1: PARIS },
      [
        ['2027-05-10T08:00Z', title('e1', 'A')],
        ['2027-05-10T09:00Z', title('e2', 'B')],
        ['2027-05-10T09:01Z', title('e2', 'B')],
        ['2027-05-10T10:00Z', title('e3', 'C')],
        ['2027-05-10T11:00Z', title('e2', 'B')],
        ['2027-05-10T12:00Z', title('e4', 'C')],
      ],
      '2027-05-11T00:00Z',
    );
    assert.deepEqual(got, [
      '2027-05-10T08:00Z u1 dossier_update/created',
      '2027-05-10T09:00Z u1 dossier_update/updated',
      '2027-05-10T10:00Z u1 dossier_update/updated',
      '2027-05-10T12:00Z u1 dossier_update/updated',
    ]);
  });

  it('rescheduled back to an earlier deadline: the kinds it already sent are not sent again', () => {
    const got = deliveries(
      { u1: PARIS },
      [
        ['2027-05-10T08:00Z', create('e1', { dueDate: '2027-05-20' })],
        ['2027-05-19T10:00Z', reschedule('e2', '2027-05-27')],
        ['2027-05-20T12:00Z', reschedule('e3', '2027-05-20')],
        ['2027-05-24T10:00Z', reschedule('e4', '2027-05-27')],
        ['2027-05-28T10:00Z', reschedule('e5', '2027-05-20')],
      ],
      '2027-06-05T00:00Z',
    );
    assert.deepEqual(got, [
      '2027-05-10T08:00Z u1 dossier_update/created',
      '2027-05-13T06:00Z u1 deadline_reminder/j-7',
      '2027-05-19T06:00Z u1 deadline_reminder/j-1',
      '2027-05-19T10:00Z u1 dossier_update/rescheduled',
      '2027-05-20T06:00Z u1 deadline_reminder/j-7',
      '2027-05-20T12:00Z u1 dossier_update/rescheduled',
      '2027-05-20T22:00Z u1 new_alert/overdue',
      '2027-05-23T22:00Z u1 new_alert/overdue_critical',
      '2027-05-24T10:00Z u1 dossier_update/rescheduled',
      '2027-05-26T06:00Z u1 deadline_reminder/j-1',
      '2027-05-27T06:00Z u1 deadline_reminder/j-0',
      '2027-05-27T22:00Z u1 new_alert/overdue',
      '2027-05-28T10:00Z u1 dossier_update/rescheduled',
    ]);
  });

  it('an urgent dossier assigned to someone else alerts the new owner, not the old one twice', () => {
    const got = deliveries(
      { u1: PARIS, u2: PARIS },
      [
        ['2027-05-10T08:00Z', create('e1', { dueDate: '2027-06-30' }, { urgent: true })],
        ['2027-05-11T08:00Z', { type: 'assign', eventId: 'e2', ownerId: 'u2' }],
        ['2027-05-12T08:00Z', { type: 'assign', eventId: 'e3', ownerId: 'u1' }],
      ],
      '2027-05-13T00:00Z',
    );
    assert.deepEqual(got, [
      '2027-05-10T08:00Z u1 dossier_update/created',
      '2027-05-10T08:00Z u1 new_alert/urgent',
      '2027-05-11T08:00Z u2 dossier_update/assigned',
      '2027-05-11T08:00Z u2 new_alert/urgent',
      '2027-05-12T08:00Z u1 dossier_update/assigned',
    ]);
  });

  it('marked urgent while done: the alert waits for the reopen; a new urgent period alerts again', () => {
    const got = deliveries(
      { u1: PARIS },
      [
        ['2027-05-10T08:00Z', create('e1', { dueDate: '2027-06-30' })],
        ['2027-05-10T09:00Z', call('complete', 'e2')],
        ['2027-05-10T10:00Z', call('markUrgent', 'e3')],
        ['2027-05-11T08:00Z', call('reopen', 'e4')],
        ['2027-05-11T09:00Z', call('unmarkUrgent', 'e5')],
        ['2027-05-11T10:00Z', call('markUrgent', 'e6')],
        ['2027-05-11T11:00Z', call('cancel', 'e7')],
      ],
      '2027-07-10T00:00Z',
    );
    assert.deepEqual(got, [
      '2027-05-10T08:00Z u1 dossier_update/created',
      '2027-05-10T09:00Z u1 dossier_update/completed',
      '2027-05-11T08:00Z u1 dossier_update/reopened',
      '2027-05-11T08:00Z u1 new_alert/urgent',
      '2027-05-11T10:00Z u1 new_alert/urgent',
    ]);
  });

  it('reopened after the deadline passed: overdue at once, critical on time, no past j-N', () => {
    const got = deliveries(
      { u1: PARIS },
      [
        ['2027-05-10T08:00Z', create('e1', { dueDate: '2027-05-12' })],
        ['2027-05-12T05:00Z', call('complete', 'e2')],
        ['2027-05-14T10:00Z', call('reopen', 'e3')],
      ],
      '2027-06-01T00:00Z',
    );
    assert.deepEqual(got, [
      '2027-05-10T08:00Z u1 dossier_update/created',
      '2027-05-11T06:00Z u1 deadline_reminder/j-1',
      '2027-05-12T05:00Z u1 dossier_update/completed',
      '2027-05-14T10:00Z u1 dossier_update/reopened',
      '2027-05-14T10:00Z u1 new_alert/overdue',
      '2027-05-15T22:00Z u1 new_alert/overdue_critical',
    ]);
  });
});

describe('random lives', () => {
  it('are well formed', () => {
    fc.assert(
      fc.property(lifeArbitrary(), (life) => {
        assert.match(life.dossierId, /^[A-Za-z0-9._-]+$/);
        assert.ok(life.start >= Date.UTC(2025, 11, 1) && life.start < Date.UTC(2029, 1, 1));
        assert.ok(life.end >= life.start && life.end <= life.start + 20 * 86_400_000);
        life.steps.forEach((s, i) =>
          assert.ok(s.at >= life.start && (i === 0 || s.at >= life.steps[i - 1]!.at)),
        );
        life.outages.forEach((o, i) =>
          assert.ok(o.from < o.to && (i === 0 || o.from > life.outages[i - 1]!.to)),
        );
        const byEventId = new Map<string, LifeAction>();
        for (const { action } of life.steps) {
          const owner = action.type === 'ownerZone' || action.type === 'upsert' || action.type === 'assign';
          if (owner) assert.ok(action.ownerId in life.owners);
          if ('deadline' in action && action.deadline.dueDate !== undefined) {
            assert.match(action.deadline.dueDate, /^20\d\d-\d\d-\d\d$/);
          }
          if (!('eventId' in action)) continue;
          const first = byEventId.get(action.eventId);
          if (first === undefined) byEventId.set(action.eventId, action);
          else assert.deepEqual(action, first, 'a repeated eventId is a retry of the same call');
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('checkLives', () => {
  it('passes with the model itself as the runner', async () => {
    await checkLives(async (life) => expectedDeliveries(life), { numRuns: 300 });
  });

  it('fails, with replay instructions, for a runner that drops the last delivery', async () => {
    const logged: string[] = [];
    await assert.rejects(
      checkLives(async (life) => expectedDeliveries(life).slice(0, -1), {
        numRuns: 100,
        seed: 42,
        log: (m) => logged.push(m),
      }),
      (error: Error) =>
        /MODEL_SEED=\d+ MODEL_PATH=\S+/.test(error.message) && /diff:\n {2}- /.test(error.message),
    );
    assert.match(logged.join('\n'), /MODEL_SEED=\d+/);
  });
});
