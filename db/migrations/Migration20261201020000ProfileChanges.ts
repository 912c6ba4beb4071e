import { Migration } from '@mikro-orm/migrations';

/**
 * The profile changes made, by the key of the call that made them. A save that changes a user's
 * zone or locale records its key in the same transaction; its retry (the first attempt committed,
 * then its result was lost) finds the key and still reports the change, so the user's other
 * dossiers are told. Without it the retry would see the new zone stored and report nothing.
 */
export class Migration20261201020000ProfileChanges extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table profile_changes (
        change_key varchar(1024) primary key,
        user_id varchar(128) not null references users (id),
        created_at timestamptz not null default now()
      );`);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists profile_changes;');
  }
}
