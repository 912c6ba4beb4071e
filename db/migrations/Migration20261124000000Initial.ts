import { Migration } from '@mikro-orm/migrations';

export class Migration20261124000000Initial extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table users (
        id varchar(128) primary key,
        name text not null default '',
        locale varchar(8) not null default 'fr' check (locale in ('fr', 'en')),
        timezone varchar(64) not null default 'Europe/Paris',
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      );`);
    this.addSql(`
      create table dossiers (
        id varchar(128) primary key,
        title text not null,
        owner_id varchar(128) not null references users (id),
        due_date date null,
        due_at timestamptz null,
        urgent boolean not null default false,
        urgent_since timestamptz null,
        status varchar(16) not null default 'open' check (status in ('open', 'done', 'cancelled')),
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        constraint dossiers_one_deadline check ((due_date is null) <> (due_at is null))
      );`);
    this.addSql(`create index dossiers_owner_id_index on dossiers (owner_id);`);
    this.addSql(`create index dossiers_open_index on dossiers (id) where status = 'open';`);
    this.addSql(`
      create table notifications (
        id bigserial primary key,
        idempotency_key varchar(255) not null,
        user_id varchar(128) not null references users (id),
        type varchar(32) not null,
        kind varchar(32) not null,
        dossier_id varchar(128) null,
        title text not null,
        body text not null,
        data jsonb not null default '{}',
        scheduled_for timestamptz null,
        created_at timestamptz not null default now(),
        read_at timestamptz null,
        constraint notifications_idempotency_key_unique unique (idempotency_key)
      );`);
    this.addSql(`create index notifications_user_id_id_index on notifications (user_id, id);`);
    this.addSql(
      `create index notifications_unread_index on notifications (user_id, id) where read_at is null;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists notifications;');
    this.addSql('drop table if exists dossiers;');
    this.addSql('drop table if exists users;');
  }
}
