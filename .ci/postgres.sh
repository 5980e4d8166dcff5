#!/usr/bin/env bash
# Starts or stops a throwaway PostgreSQL server on 127.0.0.1 for the conformance tests.
#   .ci/postgres.sh start   -> prints the admin URL to export as KEYWARD_TEST_DATABASE_URL
#   .ci/postgres.sh stop
# Installs Debian's postgresql package when it is missing. The cluster lives under /tmp, where
# the postgres user can reach it whatever the permissions of the checkout's parent directories.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
port=${KEYWARD_PG_PORT:-54329}
data=${KEYWARD_PG_DIR:-${TMPDIR:-/tmp}/keyward-pg-$(printf '%s' "$repo" | sha256sum | cut -c1-12)/data}
run_as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
pgbin() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}
case "${1:-}" in
  start)
    if [ -z "$(pgbin)" ]; then
      echo "installing postgresql" >&2
      apt-get update -qq >&2
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
    fi
    bin=$(pgbin)
    if [ ! -f "$data/PG_VERSION" ]; then
      mkdir -p "$data"
      [ "$(id -u)" = 0 ] && chown -R postgres "$(dirname "$data")"
      run_as_pg "$bin/initdb" -D "$data" -U keyward -A trust --no-instructions >/dev/null
    fi
    if ! run_as_pg "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
      run_as_pg "$bin/pg_ctl" -D "$data" -w -l "$data/server.log" \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $data -c fsync=off -c max_connections=200" start >/dev/null
    fi
    echo "postgres://keyward@127.0.0.1:$port/postgres"
    ;;
  stop)
    bin=$(pgbin)
    if [ -n "$bin" ] && [ -f "$data/PG_VERSION" ]; then
      run_as_pg "$bin/pg_ctl" -D "$data" -m fast stop >/dev/null 2>&1 || true
    fi
    ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
