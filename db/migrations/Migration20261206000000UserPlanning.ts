import { Migration } from '@mikro-orm/migrations';

/**
 * A user's own planning (their profile, domain/dossier.ts `OwnerProfile`): the business calendar
 * their reminders avoid (`{ country, region?, closedDays? }` or `"off"`) and the local time of
 * their j-N reminders (`HH:mm`). Null: the service's settings (BUSINESS_CALENDAR,
 * BUSINESS_CLOSED_DAYS, REMINDER_TIME). Two nullable columns: no table rewrite.
 * `zone_changed_at` now dates a change of any of the three (zone, calendar, time), which is what
 * the reminder audit reads it for.
 */
export class Migration20261206000000UserPlanning extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table users add column business_calendar jsonb null;`);
    this.addSql(`alter table users add column reminder_time varchar(5) null;`);
  }

  override async down(): Promise<void> {
    this.addSql('alter table users drop column reminder_time;');
    this.addSql('alter table users drop column business_calendar;');
  }
}
