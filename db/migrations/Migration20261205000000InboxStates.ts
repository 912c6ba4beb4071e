import { Migration } from '@mikro-orm/migrations';

/**
 * Inbox states (issue 14): archived notifications, what each user has seen, and counts dated so
 * that a stale one never overwrites a newer one (docs/protocol.md, "Inbox states and counts").
 *
 * - `notifications.archived_at`: archived notifications leave the inbox (the default list) and
 *   the unread count, as in Novu and Knock; unarchived, they come back with their read state.
 *   The partial index serves the archive view (`state=archived`, newest first) and its count;
 *   archived rows are a small part of the table, and the index holds those only.
 * - `notification_inbox_states`, one row per user who marked anything: `last_seen_id`, the
 *   user's newest notification when they last opened the list ("seen" is per user, a watermark:
 *   one row written per opening, whatever the number of notifications; a notification is seen
 *   when its id is at or below it), and `seen_at`, when. `version` goes up with every mark (read,
 *   archive, unarchive, seen) and every retention change, under the user's lock: a count is dated
 *   by the user's newest id and this version, so a count that moved up without a new
 *   notification (an unarchive) is still known to be newer. `newest_id_removed`: the newest id
 *   of the user the retention removed, so that a count never dates itself below ids its tabs
 *   already received (max(id) goes down when the newest rows are removed).
 * - `notification_counts(user)`: the counts and their date as one JSON object, the one
 *   definition the marks, the retention, the sockets' opening read and REST use.
 * - `announce_notification_counts(user, channel)`: bumps the version, then NOTIFYs the counts;
 *   called under the user's lock (`lock_user_notifications` or its `try_` form).
 *   PL/pgSQL, volatile: each of its statements sees what committed before it ran, the marks
 *   made earlier in the same transaction included.
 * - `notification_wire` gains `archivedAt`.
 *
 * Plain `create index` (the migrations run in a transaction): it blocks writes to the table while
 * it builds, a few seconds on millions of rows, and the new column has no default (no rewrite).
 */
export class Migration20261205000000InboxStates extends Migration {
  override async up(): Promise<void> {
    this.addSql('alter table notifications add column archived_at timestamptz null;');
    this.addSql(
      `create index notifications_archived_index on notifications (user_id, id) where archived_at is not null;`,
    );
    this.addSql(`
      create table notification_inbox_states (
        user_id varchar(128) primary key,
        last_seen_id bigint not null default 0 check (last_seen_id >= 0),
        seen_at timestamptz null,
        version bigint not null default 0,
        newest_id_removed bigint not null default 0
      );`);
    this.addSql(`
      create function notification_counts(uid text) returns json
      language sql stable as $$
        select json_build_object(
          'userId', uid,
          'unread', (select count(*) from notifications
                      where user_id = uid and read_at is null and archived_at is null),
          'unseen', (select count(*) from notifications
                      where user_id = uid and archived_at is null and id > coalesce(s.last_seen_id, 0)),
          'archived', (select count(*) from notifications where user_id = uid and archived_at is not null),
          'lastSeenId', coalesce(s.last_seen_id, 0)::text,
          'latestId', greatest((select max(id) from notifications where user_id = uid),
                               nullif(s.newest_id_removed, 0))::text,
          'version', coalesce(s.version, 0))
        from (select 1) one left join notification_inbox_states s on s.user_id = uid
      $$;`);
    this.addSql(`
      create function announce_notification_counts(uid text, channel text) returns json
      language plpgsql volatile as $$
        declare counts json;
        begin
          insert into notification_inbox_states as s (user_id, version) values (uid, 1)
            on conflict (user_id) do update set version = s.version + 1;
          counts := notification_counts(uid);
          perform pg_notify(channel, counts::text);
          return counts;
        end
      $$;`);
    this.addSql(`
      create or replace function notification_wire(n notifications) returns text
      language sql stable as $$
        select json_build_object(
          'id', n.id::text, 'userId', n.user_id, 'type', n.type, 'kind', n.kind, 'dossierId', n.dossier_id,
          'title', n.title, 'body', n.body, 'data', n.data,
          'createdAt', to_char(n.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
          'readAt', to_char(n.read_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
          'archivedAt', to_char(n.archived_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
        )::text
      $$;`);
  }

  override async down(): Promise<void> {
    this.addSql(`
      create or replace function notification_wire(n notifications) returns text
      language sql stable as $$
        select json_build_object(
          'id', n.id::text, 'userId', n.user_id, 'type', n.type, 'kind', n.kind, 'dossierId', n.dossier_id,
          'title', n.title, 'body', n.body, 'data', n.data,
          'createdAt', to_char(n.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
          'readAt', to_char(n.read_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
        )::text
      $$;`);
    this.addSql('drop function if exists announce_notification_counts(text, text);');
    this.addSql('drop function if exists notification_counts(text);');
    this.addSql('drop table if exists notification_inbox_states;');
    this.addSql('drop index if exists notifications_archived_index;');
    this.addSql('alter table notifications drop column if exists archived_at;');
  }
}
