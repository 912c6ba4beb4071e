#!/bin/sh
# One-shot (temporal-schema service, admin-tools image): creates or upgrades Temporal's
# persistence and SQL visibility schemas, and creates the app's database (its tables are the
# app's migrations: the migrate service). Safe to run at every start: existing databases are
# kept, and update-schema applies only the versions not applied yet.
set -eu

: "${POSTGRES_SEEDS:?POSTGRES_SEEDS is required}"
: "${POSTGRES_USER:?POSTGRES_USER is required}"
: "${SQL_PASSWORD:?SQL_PASSWORD is required}"
DB_PORT="${DB_PORT:-5432}"
APP_DATABASE="${APP_DATABASE:-normx_notify}"
SCHEMA_DIR=/etc/temporal/schema/postgresql/v12

sql_tool() {
  temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -u "$POSTGRES_USER" -p "$DB_PORT" "$@"
}

echo "Waiting for PostgreSQL at $POSTGRES_SEEDS:$DB_PORT"
until nc -z -w 5 "$POSTGRES_SEEDS" "$DB_PORT"; do sleep 1; done

# `create` fails when the database exists already: that is fine, the schema steps still run.
for database in temporal temporal_visibility "$APP_DATABASE"; do
  sql_tool --db "$database" create 2>/dev/null && echo "Database $database created" \
    || echo "Database $database exists"
done

sql_tool --db temporal setup-schema -v 0.0
sql_tool --db temporal update-schema -d "$SCHEMA_DIR/temporal/versioned"
sql_tool --db temporal_visibility setup-schema -v 0.0
sql_tool --db temporal_visibility update-schema -d "$SCHEMA_DIR/visibility/versioned"
echo "Temporal schemas up to date; app database $APP_DATABASE ready"
