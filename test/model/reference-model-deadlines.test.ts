import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { create, deliveries, PARIS } from './reference-examples.js';

/**
 * The reference model against hand-computed lives, so that a wrong model cannot hide a wrong
 * engine: when each reminder of a deadline falls (08:00 local, midnight for overdue, 3 local days
 * to critical), for a dueDate and a dueAt, in Paris and Kathmandu, across both DST changes and
 * Easter Monday, on a Sunday, created too late for some, or already late.
 * Paris is UTC+1 until Sunday 28 March 2027 02:00, then UTC+2 until Sunday 31 October 2027 03:00;
 * Kathmandu is UTC+5:45.
 */

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
});
