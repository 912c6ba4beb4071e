import { Migration } from '@mikro-orm/migrations';

/**
 * When a reminder became owed, for the reminder audit and the late flag (domain/reminder-audit.ts,
 * `owedSince`): the last write that could re-plan a dossier's reminders — its deadline, status or
 * owner (`dossiers.replanned_at`) — and the last change of its owner's zone
 * (`users.zone_changed_at`). `updated_at` changes on any write (a title, a name), which hid a
 * reminder stored hours late behind an unrelated change. Null on rows written before: read as
 * `updated_at`, later than or equal to the real instant, so the audit can only owe them fewer
 * reminders. Two nullable columns: no table rewrite.
 */
export class Migration20261202010000ReplanStamps extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table dossiers add column replanned_at timestamptz null;`);
    this.addSql(`alter table users add column zone_changed_at timestamptz null;`);
  }

  override async down(): Promise<void> {
    this.addSql('alter table users drop column zone_changed_at;');
    this.addSql('alter table dossiers drop column replanned_at;');
  }
}
