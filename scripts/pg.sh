#!/usr/bin/env bash
# Start a throw-away PostgreSQL 15 on a free localhost port and print the line that points the tests at it:
#   export TAXCHECK_TEST_PG_URL=postgresql+psycopg://postgres@127.0.0.1:PORT/postgres
# scripts/test.sh evals that line. The server lives in a fresh temp folder and is stopped (and the folder removed)
# when the process that called us (test.sh, which becomes pytest) exits. `pg.sh stop DIR` stops it by hand.
# Runs initdb/postgres as the `postgres` user when we are root (PostgreSQL refuses to run as root).
set -euo pipefail
PGBIN="${PGBIN:-/usr/lib/postgresql/15/bin}"

as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

if [ "${1:-}" = "stop" ]; then
  as_pg "$PGBIN/pg_ctl" -D "$2/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$2"
  exit 0
fi

if [ ! -x "$PGBIN/initdb" ]; then
  echo "echo 'pg.sh: PostgreSQL 15 binaries not found in $PGBIN; PostgreSQL tests will be skipped' >&2"
  exit 0
fi

owner="${TAXCHECK_PG_OWNER_PID:-$PPID}"
dir="$(mktemp -d /tmp/taxcheck-pg.XXXXXX)"
chmod 0755 "$dir"
[ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir"
as_pg "$PGBIN/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1

port=""
for _ in $(seq 1 20); do
  p="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
  if as_pg "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
       -o "-p $p -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off" start >/dev/null 2>&1; then
    port="$p"; break
  fi
done
if [ -z "$port" ]; then
  echo "pg.sh: could not start PostgreSQL (see $dir/server.log)" >&2
  exit 1
fi

# Stop the server when the owner exits (detached, so command substitution does not wait for it).
nohup bash -c "while kill -0 $owner 2>/dev/null; do sleep 2; done; '$0' stop '$dir'" >/dev/null 2>&1 &

echo "export TAXCHECK_TEST_PG_URL=postgresql+psycopg://postgres@127.0.0.1:$port/postgres"
