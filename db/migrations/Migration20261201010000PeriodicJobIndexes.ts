import { Migration } from '@mikro-orm/migrations';

/**
 * Indexes of the periodic jobs.
 * - `users (timezone, id)`: the daily report runs every 15 minutes; it reads the distinct zones
 *   (a walk of this index, one probe per zone) and pages through the users of the zones whose
 *   report time has come, never through every user.
 * - notifications of kind `urgent` by (dossier, user, created_at): the hourly check asks, for a
 *   page of urgent dossiers, whether each current owner already had an urgent alert for the
 *   dossier since it became urgent (keys stored before the owner joined the key cannot tell).
 *   Partial: only the `urgent` alerts are indexed.
 * Plain `create index` (the migrations run in a transaction): it blocks writes to the table
 * while it builds, seconds for a notifications table of millions of rows.
 */
export class Migration20261201010000PeriodicJobIndexes extends Migration {
  override async up(): Promise<void> {
    this.addSql('create index users_timezone_id_index on users (timezone, id);');
    this.addSql(
      `create index notifications_urgent_dossier_index on notifications (dossier_id, user_id, created_at)
         where kind = 'urgent';`,
    );
  }

  override async down(): Promise<void> {
    this.addSql('drop index if exists notifications_urgent_dossier_index;');
    this.addSql('drop index if exists users_timezone_id_index;');
  }
}
