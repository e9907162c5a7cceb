#!/bin/sh
# PostgreSQL's first start in docker-compose.yml (/docker-entrypoint-initdb.d): one database per
# service that owns one, named ticketing_<database> after the `database` of the service's
# [tool.ticketing] table, the names `make dev` and the services' DATABASE_URL use. The services'
# pyproject files are mounted read-only at $TICKETING_SERVICES (default /ticketing/services).
set -eu

services=${TICKETING_SERVICES:-/ticketing/services}
found=0
for manifest in "$services"/*/pyproject.toml; do
  [ -f "$manifest" ] || continue
  database=$(sed -n 's/^database *= *"\([a-z0-9_]*\)" *$/\1/p' "$manifest")
  [ -n "$database" ] || continue
  found=$((found + 1))
  echo "create-databases: ticketing_$database"
  psql -v ON_ERROR_STOP=1 --no-password --no-psqlrc --username "${POSTGRES_USER:-postgres}" \
    --dbname postgres --command "CREATE DATABASE \"ticketing_$database\""
done
if [ "$found" -eq 0 ]; then
  echo "create-databases: no service declares a database under $services" >&2
  exit 1
fi
