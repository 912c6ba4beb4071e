import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createDossierActivities } from '../../activities/dossier-activities.js';
import { loadConfig } from '../../config/config.js';
import { openOrm } from '../../db/orm.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { inActivity } from '../support/activity-context.js';
import { waitFor } from '../support/wait.js';

/**
 * What a delivery reads about its recipient, in one statement (activities/dossier-rows.ts,
 * `recipientOf`): the user (created with the defaults when NormX never described them), their
 * preferences, and the dossier's stamps for the late flag, each read as the ORM read them before.
 */
const config = loadConfig({});
let db: TestDatabase;
const deliver = (request: Record<string, unknown>) =>
  inActivity(
    createDossierActivities({
      orm: db.orm,
      temporal: { client: {} as never, taskQueue: 'recipient' },
      config,
    }).deliverNotification,
    request as never,
  );
const dueAt = new Date(Date.now() + 3 * 86_400_000).toISOString();
const dossierOf = (id: string, ownerId: string) => ({
  id,
  title: `Liasse ${id}`,
  ownerId,
  dueAt,
  urgent: false,
  status: 'open' as const,
});
const rowOf = async (key: string) =>
  (
    await db.query<{ title: string; data: Record<string, unknown>; archived: boolean }>(
      'select title, data, archived_at is not null as archived from notifications where idempotency_key = $1',
      [key],
    )
  )[0];

before(async () => {
  db = await createTestDatabase();
});
after(async () => db.drop());

describe('a delivery reads its recipient in one statement', () => {
  it('a recipient with no row is created with the service defaults, and reads in French', async () => {
    await deliver({
      idempotencyKey: 'ghost-1',
      userId: 'ghost',
      type: 'dossier_update',
      kind: 'created',
      dossier: dossierOf('g1', 'ghost'),
    });
    const [user] = await db.query<{ locale: string; timezone: string }>(
      "select locale, timezone from users where id = 'ghost'",
    );
    assert.deepEqual(user, { locale: config.defaults.locale, timezone: config.defaults.timeZone });
    const row = await rowOf('ghost-1');
    assert.ok(row, 'stored');
    assert.match(row.title, /Liasse g1/);
    assert.equal(row.data.late, undefined);
  });

  it('a delivery to a new user does not overwrite the profile a save inserts at the same moment', async () => {
    const saver = new pg.Client({ connectionString: db.url });
    await saver.connect();
    try {
      await saver.query('begin');
      await saver.query(
        "insert into users (id, name, locale, timezone) values ('zed', 'Zed', 'en', 'America/New_York')",
      );
      const delivery = deliver({
        idempotencyKey: 'zed-1',
        userId: 'zed',
        type: 'dossier_update',
        kind: 'created',
        dossier: dossierOf('z1', 'zed'),
      });
      // The delivery's insert waits for the save's row.
      await waitFor('the delivery waiting on the row', async () => {
        const rows = await db.query(
          "select 1 from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'",
        );
        return rows.length > 0;
      });
      await saver.query('commit');
      await delivery;
    } finally {
      await saver.end();
    }
    const [user] = await db.query<{ name: string; locale: string; timezone: string }>(
      "select name, locale, timezone from users where id = 'zed'",
    );
    assert.deepEqual(user, { name: 'Zed', locale: 'en', timezone: 'America/New_York' });
  });

  it("the user's own language and preferences apply: an English title, a kind kept out of the bell", async () => {
    await db.query(
      "insert into users (id, name, locale, timezone) values ('ada', 'Ada', 'en', 'Europe/London')",
    );
    await db.query(
      `insert into notification_preferences (user_id, kinds) values ('ada', '{"j-1": {"bell": false, "popup": false}}')`,
    );
    const fr = await (async () => {
      await deliver({
        idempotencyKey: 'ghost-2',
        userId: 'ghost',
        type: 'deadline_reminder',
        kind: 'j-1',
        dossier: dossierOf('g1', 'ghost'),
      });
      return rowOf('ghost-2');
    })();
    await deliver({
      idempotencyKey: 'ada-1',
      userId: 'ada',
      type: 'deadline_reminder',
      kind: 'j-1',
      dossier: dossierOf('a1', 'ada'),
    });
    const en = await rowOf('ada-1');
    assert.ok(fr && en);
    assert.notEqual(
      en.title,
      fr.title.replace('g1', 'a1'),
      'the title is rendered in the recipient’s language',
    );
    assert.equal(en.archived, true);
    assert.equal(en.data.popup, false);
    assert.equal(en.data.silencedBy, 'preference');
    assert.equal(fr.archived, false);
  });

  it('quiet hours apply when the stored kinds are a jsonb null (a row NormX wrote)', async () => {
    await db.query(
      "insert into users (id, name, locale, timezone) values ('quinn', 'Quinn', 'fr', 'Europe/Paris')",
    );
    await db.query(
      `insert into notification_preferences (user_id, kinds, quiet_hours) values ('quinn', 'null'::jsonb, '{"from": "00:00", "to": "23:59"}')`,
    );
    await deliver({
      idempotencyKey: 'quinn-1',
      userId: 'quinn',
      type: 'deadline_reminder',
      kind: 'j-1',
      dossier: dossierOf('q1', 'quinn'),
    });
    const row = await rowOf('quinn-1');
    assert.equal(row?.data.popup, false);
    assert.equal(row?.data.silencedBy, 'quiet_hours');
  });

  it('the late flag with stamps from an era of odd offsets (Paris mean time, before 1911), in a Paris session', async () => {
    await db.query(
      "insert into users (id, name, locale, timezone, updated_at, zone_changed_at) values ('old', 'Old', 'fr', 'Europe/Paris', now(), '1900-01-01 00:00:00+00')",
    );
    await db.query(
      `insert into dossiers (id, title, owner_id, due_at, status, urgent, planned_at, updated_at, created_at, replanned_at)
       values ('o1', 'TVA', 'old', $1, 'open', false, '1900-01-01 00:00:00+00', '1900-01-01 00:00:00+00', now(), '1900-01-01 00:00:00+00')`,
      [dueAt],
    );
    // New connections of this database talk Europe/Paris: 1900 comes back as `+00:09:21`.
    await db.query(`alter database "${new URL(db.url).pathname.slice(1)}" set timezone to 'Europe/Paris'`);
    const paris = await openOrm(db.url);
    try {
      const hourAgo = new Date(Date.now() - 3_600_000).toISOString();
      await inActivity(
        createDossierActivities({
          orm: paris,
          temporal: { client: {} as never, taskQueue: 'recipient' },
          config,
        }).deliverNotification,
        {
          idempotencyKey: 'old-1',
          userId: 'old',
          type: 'deadline_reminder',
          kind: 'j-1',
          scheduledFor: hourAgo,
          dossier: dossierOf('o1', 'old'),
        } as never,
      );
    } finally {
      await paris.close(true);
      await db.query(`alter database "${new URL(db.url).pathname.slice(1)}" reset timezone`);
    }
    assert.equal((await rowOf('old-1'))?.data.late, true);
  });

  it('a reminder owed since before the grace is flagged late; replanned_at null reads as updated_at', async () => {
    await db.query(
      "insert into users (id, name, locale, timezone, updated_at, zone_changed_at) values ('bob', 'Bob', 'fr', 'Europe/Paris', now() - interval '3 hours', null)",
    );
    await db.query(
      `insert into dossiers (id, title, owner_id, due_at, status, urgent, planned_at, updated_at, created_at, replanned_at)
       values ('b1', 'TVA', 'bob', $1, 'open', false, now() - interval '2 hours', now() - interval '2 hours', now() - interval '2 hours', null),
              ('b2', 'TVA', 'bob', $1, 'open', false, now() - interval '2 hours', now() - interval '1 minute', now() - interval '2 hours', null)`,
      [dueAt],
    );
    const hourAgo = new Date(Date.now() - 3_600_000).toISOString();
    const base = { userId: 'bob', type: 'deadline_reminder', kind: 'j-1', scheduledFor: hourAgo };
    await deliver({ ...base, idempotencyKey: 'bob-late', dossier: dossierOf('b1', 'bob') });
    // Written a minute ago: owed from then, within the grace.
    await deliver({ ...base, idempotencyKey: 'bob-replanned', dossier: dossierOf('b2', 'bob') });
    // Owed from now: on time.
    await deliver({
      ...base,
      idempotencyKey: 'bob-now',
      scheduledFor: new Date().toISOString(),
      dossier: dossierOf('b1', 'bob'),
    });
    assert.equal((await rowOf('bob-late'))?.data.late, true);
    assert.equal((await rowOf('bob-replanned'))?.data.late, undefined);
    assert.equal((await rowOf('bob-now'))?.data.late, undefined);
  });

  it('a dossier with no row yet is never late', async () => {
    const hourAgo = new Date(Date.now() - 3_600_000).toISOString();
    await deliver({
      idempotencyKey: 'bob-norow',
      userId: 'bob',
      type: 'deadline_reminder',
      kind: 'j-1',
      scheduledFor: hourAgo,
      dossier: dossierOf('none', 'bob'),
    });
    assert.equal((await rowOf('bob-norow'))?.data.late, undefined);
  });
});
