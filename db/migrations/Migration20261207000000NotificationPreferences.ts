import { Migration } from '@mikro-orm/migrations';

/**
 * A user's notification preferences (domain/preferences.ts): per kind, in the bell or not and
 * popup or not (`kinds`, only the kinds the user changed), and quiet hours (`{from, to}`, local
 * `HH:mm`). Written by the REST server (the user or the service token), read by the delivery
 * activity when it stores a notification. A table of its own: the users row belongs to the
 * profile (the backend's), and a user may set preferences before their first dossier. The
 * reminder hour is the profile's `users.reminder_time`: changing it re-plans dossiers.
 */
export class Migration20261207000000NotificationPreferences extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table notification_preferences (
        user_id varchar(128) primary key,
        kinds jsonb not null default '{}'::jsonb,
        quiet_hours jsonb null,
        updated_at timestamptz not null default now()
      );`);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists notification_preferences;');
  }
}
