import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { createDossierClient } from '../../client/dossier-client.js';
import {
  deadline,
  dossierInput,
  dossierUpdate,
  eventId,
  ownerProfile,
  parse,
  userId,
  ValidationError,
  type DossierInput,
} from '../../client/dossier-schemas.js';
import {
  DUE_AT_FROM,
  DUE_DATE_MAX,
  DUE_DATE_MIN,
  ID_MAX_LENGTH,
  OWNER_NAME_MAX_LENGTH,
  TIME_ZONE_MAX_LENGTH,
  TITLE_MAX_LENGTH,
} from '../../domain/limits.js';

/**
 * One set of limits (domain/limits.ts): what PostgreSQL would refuse is refused at the API with a
 * ValidationError naming the field, by the dossier schema, the smaller schemas and the client API
 * (before it calls Temporal); the bounds themselves are accepted. The tables' widths:
 * limits-tables.test.ts; what the schemas accept and PostgreSQL stores: limits-accepted.test.ts.
 */

/** The fields a ValidationError names, in order. */
function refusedFields(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof ValidationError, `a ValidationError, not ${String(error)}`);
    return error.issues.map((issue) => issue.field);
  }
  assert.fail('the input was accepted');
}

describe('what PostgreSQL would refuse, the schemas refuse, naming the field', () => {
  const valid: DossierInput = {
    id: 'D-2026-0042',
    title: 'Bilan 2026 SARL Dupont',
    ownerId: 'u-17',
    dueDate: '2027-03-31',
    eventId: 'evt-1',
    owner: { name: 'Léa Martin', locale: 'fr', timezone: 'Europe/Paris' },
  };
  const { dueDate: _dueDate, ...withoutDeadline } = valid;
  const longId = 'a'.repeat(ID_MAX_LENGTH + 1);
  /** [what, input, the field named]: each is the valid input with one bad field. */
  const cases: Array<[string, DossierInput, string]> = [
    ['NUL in the title', { ...valid, title: 'Bilan\u0000' }, 'title'],
    ['a lone surrogate in the title', { ...valid, title: 'Bilan \uD83D' }, 'title'],
    ['a title over the limit', { ...valid, title: 'x'.repeat(TITLE_MAX_LENGTH + 1) }, 'title'],
    ['NUL in the owner name', { ...valid, owner: { name: 'Léa\u0000' } }, 'owner.name'],
    ['a lone surrogate in the owner name', { ...valid, owner: { name: '\uDE00Léa' } }, 'owner.name'],
    [
      'an owner name over the limit',
      { ...valid, owner: { name: 'x'.repeat(OWNER_NAME_MAX_LENGTH + 1) } },
      'owner.name',
    ],
    [
      'a zone name over the limit',
      { ...valid, owner: { timezone: 'x'.repeat(TIME_ZONE_MAX_LENGTH + 1) } },
      'owner.timezone',
    ],
    ['NUL in the dossier id', { ...valid, id: 'D\u0000' }, 'id'],
    ['a dossier id over the limit', { ...valid, id: longId }, 'id'],
    ['NUL in the owner id', { ...valid, ownerId: 'u\u0000' }, 'ownerId'],
    ['a control character in the owner id', { ...valid, ownerId: 'u\u001b[31m' }, 'ownerId'],
    ['a lone surrogate in the owner id', { ...valid, ownerId: 'u\uDFFF' }, 'ownerId'],
    ['an owner id over the limit', { ...valid, ownerId: longId }, 'ownerId'],
    ['NUL in the event id', { ...valid, eventId: 'evt\u0000' }, 'eventId'],
    ['a lone surrogate in the event id', { ...valid, eventId: 'evt\uD800' }, 'eventId'],
    ['an event id over the limit', { ...valid, eventId: longId }, 'eventId'],
    ['dueDate 0000-01-01', { ...valid, dueDate: '0000-01-01' }, 'dueDate'],
    ['dueDate 9999-12-31', { ...valid, dueDate: '9999-12-31' }, 'dueDate'],
    ['dueDate 1999-12-31', { ...valid, dueDate: '1999-12-31' }, 'dueDate'],
    ['dueDate 2100-01-01', { ...valid, dueDate: '2100-01-01' }, 'dueDate'],
    ['dueAt in year 0', { ...withoutDeadline, dueAt: '0000-01-01T00:00:00Z' }, 'dueAt'],
    ['dueAt in year +10000', { ...withoutDeadline, dueAt: '+010000-01-01T00:00:00Z' }, 'dueAt'],
    ['dueAt on 2100-01-01', { ...withoutDeadline, dueAt: '2100-01-01T00:00:00Z' }, 'dueAt'],
    ['dueAt past 2100 by its offset', { ...withoutDeadline, dueAt: '2099-12-31T23:00:00-02:00' }, 'dueAt'],
    ['dueAt before 2000', { ...withoutDeadline, dueAt: '1999-12-31T23:59:59.999Z' }, 'dueAt'],
  ];

  for (const [what, bad, field] of cases) {
    it(`${what}: refused, naming ${field}`, () => {
      assert.deepEqual(
        refusedFields(() => parse(dossierInput, bad)),
        [field],
      );
      if (field !== 'id') {
        const { id: _id, ...update } = bad;
        assert.deepEqual(
          refusedFields(() => parse(dossierUpdate, update)),
          [field],
        );
      }
    });
  }

  it('the bounds themselves are accepted', () => {
    const id = 'a'.repeat(ID_MAX_LENGTH);
    for (const accepted of [
      { ...valid, id, ownerId: id, eventId: id, title: 'x'.repeat(TITLE_MAX_LENGTH) },
      { ...valid, dueDate: DUE_DATE_MIN, owner: { name: 'x'.repeat(OWNER_NAME_MAX_LENGTH) } },
      { ...valid, dueDate: DUE_DATE_MAX, ownerId: 'u\uD83D\uDE00 é' },
      { ...withoutDeadline, dueAt: DUE_AT_FROM },
      { ...withoutDeadline, dueAt: '2099-12-31T23:59:59.999Z' },
      { ...withoutDeadline, dueAt: '2100-01-01T00:30:00+01:00' },
    ]) {
      assert.doesNotThrow(() => parse(dossierInput, accepted), JSON.stringify(accepted));
    }
  });

  it('the smaller schemas refuse the same, naming the field they are given', () => {
    assert.deepEqual(
      refusedFields(() => parse(deadline, { dueDate: '9999-12-31' })),
      ['dueDate'],
    );
    assert.deepEqual(
      refusedFields(() => parse(deadline, { dueAt: '0000-01-01T00:00:00Z' })),
      ['dueAt'],
    );
    assert.deepEqual(
      refusedFields(() => parse(ownerProfile, { name: 'a\u0000' }, 'owner')),
      ['owner.name'],
    );
    assert.deepEqual(
      refusedFields(() => parse(userId, 'u\u0000', 'ownerId')),
      ['ownerId'],
    );
    assert.deepEqual(
      refusedFields(() => parse(eventId, 'e\uD800', 'eventId')),
      ['eventId'],
    );
  });

  it('the client API refuses them before calling Temporal, naming the field', async () => {
    // Nothing listens there: a call that got past validation would fail on the connection instead.
    const client = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) });
    const dossiers = createDossierClient(client, { taskQueue: 'unused' });
    const rejectsNaming = async (call: () => Promise<unknown>, field: string) => {
      const error = await call().then(
        () => assert.fail('accepted'),
        (reason: unknown) => reason,
      );
      assert.ok(error instanceof ValidationError, String(error));
      assert.deepEqual(
        error.issues.map((issue) => issue.field),
        [field],
      );
    };
    await rejectsNaming(() => dossiers.create({ ...valid, title: 'Bilan\u0000' }), 'title');
    await rejectsNaming(() => dossiers.update({ ...valid, dueDate: '0000-01-01' }), 'dueDate');
    await rejectsNaming(() => dossiers.create({ ...valid, owner: { name: '\u0000' } }), 'owner.name');
    await rejectsNaming(() => dossiers.create({ ...valid, eventId: longId }), 'eventId');
    await rejectsNaming(() => dossiers.reschedule('D-1', { dueDate: '9999-12-31' }), 'dueDate');
    await rejectsNaming(() => dossiers.reschedule('D-1', { dueAt: '0000-01-01T00:00:00Z' }), 'dueAt');
    await rejectsNaming(() => dossiers.assign('D-1', 'u\u0000'), 'ownerId');
    await rejectsNaming(() => dossiers.assign('D-1', 'u-2', { name: 'Léa\u0000' }), 'owner.name');
    await rejectsNaming(() => dossiers.complete('D\u0000'), 'id');
    await rejectsNaming(() => dossiers.markUrgent(longId), 'id');
    await client.connection.close();
  });
});
