#!/bin/sh
# Temporal's databases and schemas on the Temporal PostgreSQL (compose only; on Kubernetes the
# Helm chart's schema Job does this). Safe to run on every `docker compose up`: existing
# databases and base schemas are kept, update-schema applies only missing versions.
# Runs in temporalio/admin-tools (temporal-sql-tool). Needs POSTGRES_SEEDS, POSTGRES_USER,
# POSTGRES_PWD; DB_PORT, DBNAME, VISIBILITY_DBNAME default to 5432, temporal,
# temporal_visibility.
set -eu
: "${POSTGRES_SEEDS:?}" "${POSTGRES_USER:?}" "${POSTGRES_PWD:?}"
DB_PORT="${DB_PORT:-5432}"
DBNAME="${DBNAME:-temporal}"
VISIBILITY_DBNAME="${VISIBILITY_DBNAME:-temporal_visibility}"
export SQL_PASSWORD="$POSTGRES_PWD"
SCHEMAS=/etc/temporal/schema/postgresql/v12

sql() {
  temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$DB_PORT" \
    -u "$POSTGRES_USER" "$@"
}

# tolerate MESSAGE COMMAND…: run COMMAND; a failure whose output matches MESSAGE is fine.
tolerate() {
  pattern="$1"
  shift
  if out=$("$@" 2>&1); then
    echo "$out"
  elif echo "$out" | grep -Eiq "$pattern"; then
    echo "already there: $*"
  else
    echo "$out" >&2
    return 1
  fi
}

for pair in "$DBNAME:temporal" "$VISIBILITY_DBNAME:visibility"; do
  db="${pair%%:*}"
  schema="${pair##*:}"
  echo "database $db ($schema schema)"
  tolerate 'already exists' sql --db "$db" create-database
  tolerate 'schema_version.*already exists|already exists' sql --db "$db" setup-schema -v 0.0
  sql --db "$db" update-schema -d "$SCHEMAS/$schema/versioned"
done
echo "Temporal schemas are up to date"
