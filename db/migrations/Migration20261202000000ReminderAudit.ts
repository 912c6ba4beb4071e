import { Migration } from '@mikro-orm/migrations';

/**
 * What the reminder audit reads from a dossier row (domain/reminder-audit.ts): when its reminders
 * were last planned from scratch (created, deadline moved, reopened) and the owner's zone then.
 * Rows written before this migration get their `updated_at`, which is at or after their last plan:
 * the audit can only owe them fewer reminders, never one the rules skipped. A row NormX inserts
 * itself gets the instant of its insert. A null zone reads as the owner's current zone.
 */
export class Migration20261202000000ReminderAudit extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table dossiers add column planned_at timestamptz null;`);
    this.addSql(`alter table dossiers add column planned_zone varchar(64) null;`);
    this.addSql(`update dossiers set planned_at = updated_at;`);
    this.addSql(`alter table dossiers alter column planned_at set default now();`);
    this.addSql(`alter table dossiers alter column planned_at set not null;`);
  }

  override async down(): Promise<void> {
    this.addSql('alter table dossiers drop column planned_zone;');
    this.addSql('alter table dossiers drop column planned_at;');
  }
}
