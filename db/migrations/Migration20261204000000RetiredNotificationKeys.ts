import { Migration } from '@mikro-orm/migrations';

/**
 * The idempotency keys of the notifications the retention removed (activities/
 * retention-activities.ts): written in the transaction that deletes the rows, read by the
 * notification store's insert (activities/notification-store.ts), which stores nothing under a
 * retired key. Without them a key whose row is gone stores again: a dossier reopened after the
 * retention removed its alerts would be sent them a second time. A key stays for good (a few
 * dozen bytes, docs/operations.md, "Retention"); the insert's check is one primary-key probe.
 *
 * The check is atomic with the removal: the retention removes a user's rows only under the
 * user's lock, taken with `try_lock_user_notifications` (it never waits for it), and the insert
 * reads the retired keys after taking that lock, in `notification_key_retired` (PL/pgSQL, never
 * inlined: a volatile function's query sees what committed before it runs, not the insert's
 * older snapshot). An insert that waited for the removal of its key's row sees the key retired.
 */
export class Migration20261204000000RetiredNotificationKeys extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table retired_notification_keys (
        idempotency_key text primary key,
        retired_at timestamptz not null default now()
      );`);
    this.addSql(`
      create function notification_key_retired(key text) returns boolean
      language plpgsql volatile as $$
        begin
          return exists (select 1 from retired_notification_keys where idempotency_key = key);
        end
      $$;`);
    this.addSql(`
      create function try_lock_user_notifications(user_id text) returns boolean
      language sql volatile as $$
        select pg_try_advisory_xact_lock(1852796276, hashtext(user_id))
      $$;`);
  }

  override async down(): Promise<void> {
    this.addSql('drop function if exists try_lock_user_notifications(text);');
    this.addSql('drop function if exists notification_key_retired(text);');
    this.addSql('drop table if exists retired_notification_keys;');
  }
}
