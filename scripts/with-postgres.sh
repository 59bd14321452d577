#!/usr/bin/env bash
# Run a command against a throwaway PostgreSQL cluster on 127.0.0.1, stopped and removed on exit.
# With DATABASE_URL already set, the command runs against that database instead.
#
# Exports for the command: DATABASE_URL, and for tests that restart the database
# SWR_TEST_PG_CTL (a pg_ctl command line, run through runuser when root) and SWR_TEST_PGDATA.
set -euo pipefail

if [ -n "${DATABASE_URL:-}" ]; then
  exec "$@"
fi

bindir=""
for candidate in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -Vr); do
  if [ -x "$candidate/initdb" ]; then bindir=$candidate; break; fi
done
if [ -z "$bindir" ] && command -v initdb >/dev/null 2>&1; then
  bindir=$(dirname "$(readlink -f "$(command -v initdb)")")
fi
if [ -z "$bindir" ]; then
  echo "error: PostgreSQL server binaries (initdb, pg_ctl) not found." >&2
  echo "Install PostgreSQL (Debian: apt-get install postgresql) or set DATABASE_URL." >&2
  exit 1
fi

as_owner=()
workdir=$(mktemp -d /tmp/swrconsole-pg.XXXXXX)
if [ "$(id -u)" = 0 ]; then
  # PostgreSQL refuses to run as root: the cluster belongs to the postgres user.
  id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql postgres
  chown postgres: "$workdir"
  as_owner=(runuser -u postgres --)
fi

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
pgdata="$workdir/data"
pg_ctl=("${as_owner[@]}" "$bindir/pg_ctl" -D "$pgdata" -l "$workdir/server.log" -w -t 60
  -o "-p $port -k $workdir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200")

cleanup() {
  "${pg_ctl[@]}" stop -m immediate >/dev/null 2>&1 || true
  rm -rf "$workdir"
}
trap cleanup EXIT

"${as_owner[@]}" "$bindir/initdb" -D "$pgdata" -U postgres -A trust -E UTF8 --no-sync >/dev/null
if ! "${pg_ctl[@]}" start >/dev/null; then
  echo "error: PostgreSQL did not start; its log follows." >&2
  cat "$workdir/server.log" >&2
  exit 1
fi
echo "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (data in $pgdata)"

# The two roles a deployment has (docs/SECURITY.md): the owner, which migrates, and the runtime
# role the console serves as. The suite itself runs as the superuser (it creates and drops test
# databases); tests/test_hardening_database_roles.py deploys a database with these two.
"$bindir/psql" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 \
  -c "CREATE ROLE swrconsole_owner LOGIN CREATEDB" \
  -c "CREATE ROLE swrconsole_runtime LOGIN" >/dev/null
export SWR_TEST_OWNER_ROLE=swrconsole_owner SWR_TEST_RUNTIME_ROLE=swrconsole_runtime

export DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
export SWR_TEST_PGDATA="$pgdata"
printf -v SWR_TEST_PG_CTL '%q ' "${pg_ctl[@]}"
export SWR_TEST_PG_CTL
"$@"
