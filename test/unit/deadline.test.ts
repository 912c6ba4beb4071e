import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deadlineColumns, deadlineOf, matchDeadline, withDeadline } from '../../domain/deadline.js';

describe('the deadline helpers (domain/deadline.ts)', () => {
  it('deadlineOf keeps the instant when there is one, else the date; a row’s nulls count as absent', () => {
    assert.deepEqual(deadlineOf({ dueDate: '2027-03-31' }), { dueDate: '2027-03-31' });
    assert.deepEqual(deadlineOf({ dueAt: '2027-03-31T10:00:00Z' }), { dueAt: '2027-03-31T10:00:00Z' });
    assert.deepEqual(deadlineOf({ dueDate: '2027-03-31', dueAt: null }), { dueDate: '2027-03-31' });
    assert.deepEqual(deadlineOf({ dueDate: null, dueAt: '2027-03-31T10:00:00Z' }), {
      dueAt: '2027-03-31T10:00:00Z',
    });
    assert.deepEqual(deadlineOf({}), { dueDate: '' });
  });

  it('withDeadline replaces the deadline and keeps the rest', () => {
    const dated = { id: 'D-1', title: 't', dueDate: '2027-03-31' };
    assert.deepEqual(withDeadline(dated, { dueAt: '2027-04-01T08:00:00Z' }), {
      id: 'D-1',
      title: 't',
      dueAt: '2027-04-01T08:00:00Z',
    });
    assert.deepEqual(withDeadline({ id: 'D-1', dueAt: '2027-04-01T08:00:00Z' }, { dueDate: '2027-03-31' }), {
      id: 'D-1',
      dueDate: '2027-03-31',
    });
  });

  it('matchDeadline answers per kind; deadlineColumns gives the two nullable columns', () => {
    const on = { date: (date: string) => `date ${date}`, instant: (at: string) => `instant ${at}` };
    assert.equal(matchDeadline({ dueDate: '2027-03-31' }, on), 'date 2027-03-31');
    assert.equal(matchDeadline({ dueAt: '2027-03-31T10:00:00Z' }, on), 'instant 2027-03-31T10:00:00Z');
    assert.deepEqual(deadlineColumns({ dueDate: '2027-03-31' }), { dueDate: '2027-03-31', dueAt: null });
    assert.deepEqual(deadlineColumns({ dueAt: '2027-03-31T10:00:00Z' }), {
      dueDate: null,
      dueAt: '2027-03-31T10:00:00Z',
    });
  });
});
