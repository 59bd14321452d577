#!/usr/bin/env bash
# Restore a backup that scripts/backup.sh wrote into a fresh, empty database
# (docs/OPERATIONS.md, "Backup and restore"), then make it ready to serve:
#   1. check the backup's files against SHA256SUMS, and that the database is empty;
#   2. pg_restore as the owner role (it owns every table, function and trigger it restores;
#      the dump's own owners and grants are left out: the roles here may be named otherwise);
#   3. put the token signing key pair where REGISTRY_TOKEN_KEY_FILE/_CERT_FILE say;
#   4. `manage.py prepare_database`: the runtime role's grants (DATABASE_URL's user), any
#      migration the running code has beyond the backup's, bootstrap (keeps what is there);
#   5. `manage.py verify_audit_trail --expect-head` with the head recorded at backup.
# Then start the console (web replicas, lifecycle, the audit stream's sender).
#
#   scripts/restore.sh BACKUP_DIRECTORY
#
# Run it with the console's environment for the new database: DATABASE_OWNER_URL (the owner
# role, which must own the empty database), DATABASE_URL (the runtime role), the same
# CREDENTIAL_HASH_KEY and ACCESS_KEY_ENCRYPTION_KEYS as the backed-up console (without them
# no password, refresh token or access key of the backup works), the key pair's paths, and
# AUDIT_SYSLOG_URL if the trail is streamed (prepare_database switches its queue on or off).
# PYTHON is the interpreter that runs manage.py (default: .venv/bin/python, else python3).
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: scripts/restore.sh BACKUP_DIRECTORY" >&2
  exit 2
fi
backup=$(cd "$1" && pwd)
cd "$(dirname "$0")/.."
python=${PYTHON:-$([ -x .venv/bin/python ] && echo .venv/bin/python || echo python3)}
for program in pg_restore psql sha256sum; do
  if ! command -v "$program" >/dev/null 2>&1; then
    echo "error: $program not found (Debian: apt-get install postgresql-client coreutils)." >&2
    exit 1
  fi
done
if [ -z "${DATABASE_OWNER_URL:-}${DATABASE_OWNER_URL_FILE:-}" ]; then
  echo "error: set DATABASE_OWNER_URL: the owner role restores (and owns) the tables." >&2
  exit 1
fi

# 1. The backup is whole, and the database holds nothing yet.
(cd "$backup" && sha256sum --check --quiet SHA256SUMS)
if [ ! -s "$backup/audit-head" ]; then
  echo "error: $backup/audit-head is missing: the backup's audit trail did not verify." >&2
  exit 1
fi
eval "$("$python" scripts/console_settings.py)"
tables=$(psql --no-psqlrc --tuples-only --no-align --command \
  "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'S')")
if [ "$tables" != 0 ]; then
  echo "error: database $PGDATABASE already holds $tables tables or sequences: restore into" \
    "a new, empty one." >&2
  exit 1
fi
for pair in "registry-token.key:$REGISTRY_TOKEN_KEY_FILE" "registry-token.crt:$REGISTRY_TOKEN_CERT_FILE"; do
  source=$backup/${pair%%:*} destination=${pair#*:}
  if [ -e "$destination" ] && ! cmp --quiet "$source" "$destination"; then
    echo "error: $destination exists and is not the backup's: move it away first." >&2
    exit 1
  fi
done

# 2. The database, in one transaction: all of it or nothing.
pg_restore --no-owner --no-privileges --exit-on-error --single-transaction \
  --dbname="$PGDATABASE" "$backup/database.dump"

# 3. The token signing key pair: the registries trust this certificate already.
install -D -m 600 "$backup/registry-token.key" "$REGISTRY_TOKEN_KEY_FILE"
install -D -m 644 "$backup/registry-token.crt" "$REGISTRY_TOKEN_CERT_FILE"

# 4. Grants, migrations, bootstrap, as at every start.
"$python" manage.py prepare_database --wait 30

# 5. The trail is whole up to the head recorded at backup.
"$python" manage.py verify_audit_trail --expect-head "$(cat "$backup/audit-head")"
echo "Restored $backup into $PGDATABASE: start the console."
