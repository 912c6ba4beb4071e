import { Migration } from '@mikro-orm/migrations';

/**
 * One lock per user, held from before a notification's id is drawn until its transaction
 * commits: each user's ids then commit in increasing order, which the delivery server relies
 * on (a resume cursor never passes an id that commits later, the live stream never sees a
 * smaller id after a larger one). Mark-read takes it too, so the unread count it announces is
 * ordered with the user's notifications. Users whose ids hash alike only wait for each other.
 */
export class Migration20261124020000UserNotificationLock extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create function lock_user_notifications(user_id text) returns boolean
      language sql volatile as $$
        select true from (select pg_advisory_xact_lock(1852796276, hashtext(user_id))) as locked
      $$;`);
  }

  override async down(): Promise<void> {
    this.addSql('drop function if exists lock_user_notifications(text);');
  }
}
