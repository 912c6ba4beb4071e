import assert from 'node:assert/strict';
import { MAX_NOTIFICATION_ID } from '../../domain/notification-id.js';
import { after, before, describe, it } from 'node:test';
import { storeNotification } from '../../activities/notification-store.js';
import {
  DUE_AT_UNTIL,
  DUE_DATE_MAX,
  ID_MAX_LENGTH,
  IDEMPOTENCY_KEY_MAX_LENGTH,
  LOCALE_MAX_LENGTH,
  NOTIFICATION_LABEL_MAX_LENGTH,
  TIME_ZONE_MAX_LENGTH,
} from '../../domain/limits.js';
import * as keys from '../../domain/idempotency-keys.js';
import { deadlineKey } from '../../domain/reminder-plan.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

/**
 * One set of limits (domain/limits.ts) for the input schemas and the tables, on real PostgreSQL:
 * the migrated columns are as wide as the limits say (and the entities say the same), and the
 * longest key of each idempotency key function fits notifications.idempotency_key, for real.
 * What the schemas accept: limits-accepted.test.ts; what they refuse: test/unit/limits-refused.test.ts.
 */

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase();
});
after(async () => {
  await db?.drop();
});

describe('tables and limits', () => {
  it('the migrated columns are as wide as the limits, and the entities say the same', async () => {
    const expected: Record<string, number> = {
      'users.id': ID_MAX_LENGTH,
      'users.locale': LOCALE_MAX_LENGTH,
      'users.timezone': TIME_ZONE_MAX_LENGTH,
      'dossiers.id': ID_MAX_LENGTH,
      'dossiers.owner_id': ID_MAX_LENGTH,
      'notifications.idempotency_key': IDEMPOTENCY_KEY_MAX_LENGTH,
      'notifications.user_id': ID_MAX_LENGTH,
      'notifications.dossier_id': ID_MAX_LENGTH,
      'notifications.type': NOTIFICATION_LABEL_MAX_LENGTH,
      'notifications.kind': NOTIFICATION_LABEL_MAX_LENGTH,
      'notification_inbox_states.user_id': ID_MAX_LENGTH,
    };
    const rows = await db.query<{ column: string; length: number }>(
      `select table_name || '.' || column_name as column, character_maximum_length as length
         from information_schema.columns
        where table_schema = 'public' and table_name || '.' || column_name = any($1)`,
      [Object.keys(expected)],
    );
    assert.deepEqual(Object.fromEntries(rows.map((row) => [row.column, row.length])), expected);

    const metadata = db.orm.getMetadata();
    const entityLengths: Record<string, number | undefined> = {};
    for (const [entity, table] of [
      ['User', 'users'],
      ['Dossier', 'dossiers'],
      ['Notification', 'notifications'],
      ['NotificationInboxState', 'notification_inbox_states'],
    ] as const) {
      for (const property of Object.values(metadata.find(entity)!.properties)) {
        const name = `${table}.${property.fieldNames?.[0] ?? property.name}`;
        if (name in expected) entityLengths[name] = property.length;
      }
    }
    assert.deepEqual(entityLengths, expected);
  });

  it('the longest key of each key function fits notifications.idempotency_key, for real', async () => {
    // `:` and `%` are the characters escaping triples; an id of 128 of them is valid where allowed.
    const worst = [':', '%'].map((c) => c.repeat(ID_MAX_LENGTH));
    const dossierIds = [':'.repeat(ID_MAX_LENGTH)]; // the dossier id charset has no `%`
    const instant = new Date(Date.parse(DUE_AT_UNTIL) - 1).toISOString();
    const longest: Record<string, string> = {};
    const consider = (name: string, key: string): void => {
      if (key.length > (longest[name]?.length ?? -1)) longest[name] = key;
    };
    for (const dossierId of dossierIds) {
      for (const free of worst) {
        consider('dossierUpdateKey', keys.dossierUpdateKey(dossierId, free));
        consider('urgentAlertKey', keys.urgentAlertKey(dossierId, instant, free));
        consider('dailyReportKey', keys.dailyReportKey(free, DUE_DATE_MAX));
        consider(
          'snoozedReminderKey',
          keys.snoozedReminderKey(dossierId, MAX_NOTIFICATION_ID.toString(), free),
        );
      }
      for (const kind of ['overdue_critical', 'x'.repeat(NOTIFICATION_LABEL_MAX_LENGTH)]) {
        consider('reminderKey', keys.reminderKey(dossierId, deadlineKey({ dueAt: instant }), kind));
        consider('reminderKey', keys.reminderKey(dossierId, deadlineKey({ dueDate: DUE_DATE_MAX }), kind));
      }
    }
    // Every key function of the module is covered (a new one must be added here).
    const keyFunctions = Object.entries(keys)
      .filter(([name, value]) => name.endsWith('Key') && typeof value === 'function')
      .map(([name]) => name);
    assert.deepEqual(keyFunctions.sort(), Object.keys(longest).sort());
    // The escaping makes update keys longer than the old varchar(255).
    assert.ok(longest.dossierUpdateKey!.length > 255, `${longest.dossierUpdateKey!.length}`);

    await db.query('insert into users (id) values ($1), ($2) on conflict do nothing', worst);
    for (const [name, key] of Object.entries(longest)) {
      assert.ok(key.length <= IDEMPOTENCY_KEY_MAX_LENGTH, `${name}: ${key.length} characters`);
      const stored = await storeNotification(db.orm.em.fork(), {
        idempotencyKey: key,
        userId: worst[0]!,
        type: 'x'.repeat(NOTIFICATION_LABEL_MAX_LENGTH),
        kind: 'x'.repeat(NOTIFICATION_LABEL_MAX_LENGTH),
        dossierId: dossierIds[0]!,
        title: name,
        body: name,
        data: {},
        scheduledFor: null,
      });
      assert.equal(stored.created, true, name);
    }
  });

  it('the longest profile-change key fits profile_changes.change_key, for real', async () => {
    const worst = [':', '%'].map((c) => c.repeat(ID_MAX_LENGTH));
    const changeKeys = [
      ...worst.map((eventId) => keys.profileChangeKey.ofDossierCall(':'.repeat(ID_MAX_LENGTH), eventId)),
      ...worst.flatMap((userId) => worst.map((eventId) => keys.profileChangeKey.ofUserCall(userId, eventId))),
    ];
    await db.query('insert into users (id) values ($1), ($2) on conflict do nothing', worst);
    for (const key of changeKeys) {
      const [inserted] = await db.query<{ length: number }>(
        'insert into profile_changes (change_key, user_id) values ($1, $2) returning length(change_key) as length',
        [key, worst[0]],
      );
      assert.equal(inserted?.length, key.length);
    }
  });
});
