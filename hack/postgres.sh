#!/usr/bin/env bash
# A private PostgreSQL for the store tests, on 127.0.0.1 only.
#   hack/postgres.sh start   install (Debian packages, as root) if missing, init and start
#   hack/postgres.sh dsn     print the DSN of the test server
#   hack/postgres.sh stop    stop it
# The cluster lives in $PGTEST_DIR (default /tmp/consent-operator-postgres) and listens
# on $PGTEST_PORT (default 55439), so it never touches a system PostgreSQL.
set -euo pipefail
dir=${PGTEST_DIR:-/tmp/consent-operator-postgres}
port=${PGTEST_PORT:-55439}
user=consent
password=consent-test

pgbin() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [ -n "$d" ] && echo "$d"
}

# Runs a command as the unprivileged postgres user when we are root (initdb refuses root).
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

install() {
  if [ -n "$(pgbin)" ]; then return 0; fi
  if [ "$(id -u)" != 0 ]; then
    echo "PostgreSQL is not installed; run as root or: sudo apt-get install -y postgresql" >&2
    exit 1
  fi
  echo ">> installing PostgreSQL from Debian packages" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  # The package starts a system cluster on 5432; the tests use their own.
}

start() {
  install
  local bin; bin=$(pgbin)
  if as_pg "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
    echo ">> PostgreSQL already running on 127.0.0.1:$port ($dir); hack/postgres.sh stop stops it" >&2
    return 0
  fi
  if [ ! -f "$dir/PG_VERSION" ]; then
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
    local pwfile; pwfile=$(mktemp); echo "$password" >"$pwfile"; chmod 644 "$pwfile"
    as_pg "$bin/initdb" -D "$dir" -U "$user" --pwfile="$pwfile" -A scram-sha-256 --no-sync >/dev/null
    rm -f "$pwfile"
  fi
  as_pg "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=200" start >/dev/null
  # Left running for the next test run: starting it again costs seconds.
  echo ">> PostgreSQL on 127.0.0.1:$port ($dir), left running; hack/postgres.sh stop stops it" >&2
}

case "${1:-}" in
  start) start ;;
  dsn) echo "postgres://$user:$password@127.0.0.1:$port/postgres?sslmode=disable" ;;
  stop) as_pg "$(pgbin)/pg_ctl" -D "$dir" -m fast stop ;;
  *) echo "usage: $0 start|dsn|stop" >&2; exit 2 ;;
esac
