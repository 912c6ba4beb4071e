import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { call, create, deliveries, PARIS, reschedule } from './reference-examples.js';

/**
 * The reference model against hand-computed lives, so that a wrong model cannot hide a wrong
 * engine: the calls and outages of a dossier's life (complete, reschedule, assign, urgent,
 * reopen, an owner's zone change, calls before the create or for a dossier never created, a
 * repeated eventId) and what each one sends, moves or silences.
 * Paris is UTC+1 until Sunday 28 March 2027 02:00, then UTC+2 until Sunday 31 October 2027 03:00;
 * Montréal is UTC-4 in May.
 */

describe('reference model: hand-computed examples', () => {
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
