#!/bin/sh
# The postgres image's entrypoint, the part docker-compose.yml uses: on the first start (an empty
# $PGDATA) create the cluster with POSTGRES_USER / POSTGRES_PASSWORD, password (scram) logins from
# the network, run /docker-entrypoint-initdb.d/* against a server only the socket reaches, then
# serve on every address.
set -eu
user=${POSTGRES_USER:-postgres}

if [ "${1:-}" = postgres ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
  : "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is needed (the postgres image refuses to start without it too)}"
  password_file=$(mktemp)
  printf '%s\n' "$POSTGRES_PASSWORD" >"$password_file"
  initdb --username="$user" --pwfile="$password_file" --auth-local=trust --auth-host=scram-sha-256 \
    --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  rm -f "$password_file"
  printf 'host all all all scram-sha-256\n' >>"$PGDATA/pg_hba.conf"

  pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
  for script in /docker-entrypoint-initdb.d/*; do
    case "$script" in
      *.sh) echo "docker-entrypoint.sh: running $script"
            if [ -x "$script" ]; then "$script"; else . "$script"; fi ;;
      *.sql) echo "docker-entrypoint.sh: running $script"
             psql -v ON_ERROR_STOP=1 --username "$user" --dbname postgres -f "$script" ;;
      *) [ -e "$script" ] && echo "docker-entrypoint.sh: ignoring $script" ;;
    esac
  done
  pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
  echo "docker-entrypoint.sh: PostgreSQL init process complete; ready for start up."
fi

if [ "${1:-}" = postgres ]; then
  shift
  exec postgres -c listen_addresses='*' "$@"
fi
exec "$@"
