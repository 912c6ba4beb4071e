import { Migration } from '@mikro-orm/migrations';

/**
 * The notification as clients receive it, built by the database: the NOTIFY payload and the
 * server's catch-up reads use this one definition, serialized once per notification.
 */
export class Migration20261124010000WireFormat extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create function notification_wire(n notifications) returns text
      language sql stable as $$
        select json_build_object(
          'id', n.id::text, 'userId', n.user_id, 'type', n.type, 'kind', n.kind, 'dossierId', n.dossier_id,
          'title', n.title, 'body', n.body, 'data', n.data,
          'createdAt', to_char(n.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
          'readAt', to_char(n.read_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
        )::text
      $$;`);
  }

  override async down(): Promise<void> {
    this.addSql('drop function if exists notification_wire(notifications);');
  }
}
