#!/bin/sh
# First start of the gridcase PostgreSQL container (docker-entrypoint-initdb.d): the gridcase
# roles and database, from the same roles.sql an administrator runs on a managed cluster.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v owner_password="$GRIDCASE_OWNER_DB_PASSWORD" \
  -v supervision_password="$GRIDCASE_SUPERVISION_DB_PASSWORD" \
  -v disposal_password="$GRIDCASE_DISPOSAL_DB_PASSWORD" \
  -v api_password="$GRIDCASE_API_DB_PASSWORD" \
  -f /gridcase-sql/roles.sql
