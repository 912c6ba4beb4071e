import { Migration } from '@mikro-orm/migrations';

/**
 * The notification retention's index (activities/retention-activities.ts): each batch reads the
 * next notifications created before the cutoff in `(created_at, id)` order, after the last row
 * the previous batch looked at. No other index leads with `created_at`: without this one every
 * batch would scan the table. The keyset goes past the rows a batch keeps (the reminders of open
 * dossiers), so each is read once per run, not once per batch.
 * Plain `create index` (the migrations run in a transaction): it blocks writes to the table
 * while it builds, seconds for a notifications table of millions of rows.
 */
export class Migration20261203000000NotificationRetention extends Migration {
  override async up(): Promise<void> {
    this.addSql('create index notifications_created_at_id_index on notifications (created_at, id);');
  }

  override async down(): Promise<void> {
    this.addSql('drop index if exists notifications_created_at_id_index;');
  }
}
