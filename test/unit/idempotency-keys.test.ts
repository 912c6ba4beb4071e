import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  dailyReportKey,
  dossierUpdateKey,
  profileChangeKey,
  snoozedReminderKey,
  urgentAlertKey,
} from '../../domain/idempotency-keys.js';

/**
 * Two different inputs never give one key (domain/idempotency-keys.ts): a collision would make
 * the unique index drop a notification, or a profile change, as a retry of another. Inputs are
 * drawn from the characters that matter (`:` and `%`, which escaping deals with, and a few
 * others), fast-check with a fixed seed (FC_SEED to replay another).
 */

const seed = Number(process.env.FC_SEED ?? 20261203);
const part = fc.string({ unit: fc.constantFrom(':', '%', '3', 'A', 'a', '-'), minLength: 1, maxLength: 6 });
const date = fc.constantFrom('2026-12-01', '2026-12-02');
const instant = fc.constantFrom('2026-12-01T08:00:00.000Z', '2026-12-01T09:00:00.000Z');
const digits = fc.constantFrom('1', '12', '123');

/** For each pair of inputs drawn: the same key only for the same inputs. */
function injective<T extends unknown[]>(name: string, key: (...args: T) => string, args: fc.Arbitrary<T>) {
  it(`${name}: one key per input`, () => {
    fc.assert(
      fc.property(args, args, (a, b) => {
        if (key(...a) === key(...b)) assert.deepEqual(a, b, `${key(...a)} for both`);
      }),
      { seed, numRuns: 20_000 },
    );
  });
}

describe('idempotency keys', () => {
  injective('profileChangeKey.ofDossierCall', profileChangeKey.ofDossierCall, fc.tuple(part, part));
  injective('profileChangeKey.ofUserCall', profileChangeKey.ofUserCall, fc.tuple(part, part));
  injective('dossierUpdateKey', dossierUpdateKey, fc.tuple(part, part));
  injective('urgentAlertKey', urgentAlertKey, fc.tuple(part, instant, part));
  injective('snoozedReminderKey', snoozedReminderKey, fc.tuple(part, digits, part));
  injective('dailyReportKey', dailyReportKey, fc.tuple(part, date));

  it('a profile change sent with a dossier call and one sent on the profile route never share a key', () => {
    fc.assert(
      fc.property(part, part, part, part, (dossierId, eventId, userId, otherEvent) => {
        assert.notEqual(
          profileChangeKey.ofDossierCall(dossierId, eventId),
          profileChangeKey.ofUserCall(userId, otherEvent),
        );
      }),
      { seed, numRuns: 5_000 },
    );
  });

  it('keeps the shape of keys already stored: an id without `:` or `%` is written as it is', () => {
    assert.equal(profileChangeKey.ofDossierCall('D-1', 'evt-1'), 'dossier:D-1:evt-1');
    assert.equal(profileChangeKey.ofUserCall('u-1', 'evt-1'), 'user:u-1:evt-1');
    assert.equal(profileChangeKey.ofDossierCall('A:B', 'e:1'), 'dossier:A:B:e%3A1');
  });
});
