import { Migration } from '@mikro-orm/migrations';

/**
 * `notifications.idempotency_key` from varchar(255) to varchar(1024) (IDEMPOTENCY_KEY_MAX_LENGTH
 * in domain/limits.ts): keys escape `:` as `%3A` in their free components, so the longest a
 * 128-character dossier, event or owner id can give is 545 characters. Stored keys keep their
 * value. Widening a varchar changes no stored tuple in PostgreSQL: no table rewrite, and the
 * unique index is not rebuilt (a binary-coercible type change), so this is quick on a large table.
 * The width is written out, not read from the limits: an applied migration must never change.
 */
export class Migration20261201000000WiderIdempotencyKey extends Migration {
  override async up(): Promise<void> {
    this.addSql('alter table notifications alter column idempotency_key type varchar(1024);');
  }

  override async down(): Promise<void> {
    // Fails if a longer key was stored since: they would not fit back.
    this.addSql('alter table notifications alter column idempotency_key type varchar(255);');
  }
}
