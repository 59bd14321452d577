#!/usr/bin/env bash
# Back up the console into a new directory (docs/OPERATIONS.md, "Backup and restore"):
#   database.dump            the database, pg_dump's custom format (tables, sequences, the audit
#                            trail's triggers and functions; roles and passwords are not in it)
#   registry-token.key/.crt  the key pair that signs registry tokens (the registries trust .crt)
#   audit-head               the audit trail's head (POSITION:HASH) verified just before the dump
#   SHA256SUMS               what scripts/restore.sh checks first
#
#   scripts/backup.sh DIRECTORY
#
# Run it with the console's own environment (the variables the web replicas get, plus
# DATABASE_OWNER_URL where you have it): the database is the one the console's settings name
# (the owner's, else DATABASE_URL), so *_FILE secrets work as they do for the console. The
# secret settings themselves (CREDENTIAL_HASH_KEY, ACCESS_KEY_ENCRYPTION_KEYS, SECRET_KEY) are
# not written here: keep them in your secret store, never beside the dump.
# PYTHON is the interpreter that runs manage.py (default: .venv/bin/python, else python3).
# Exits non-zero if the audit trail does not verify; the dump is still written, as evidence.
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: scripts/backup.sh DIRECTORY (a new directory)" >&2
  exit 2
fi
target=$1
cd "$(dirname "$0")/.."
python=${PYTHON:-$([ -x .venv/bin/python ] && echo .venv/bin/python || echo python3)}
for program in pg_dump sha256sum; do
  if ! command -v "$program" >/dev/null 2>&1; then
    echo "error: $program not found (Debian: apt-get install postgresql-client coreutils)." >&2
    exit 1
  fi
done
if [ -e "$target" ] && [ -n "$(ls -A "$target" 2>/dev/null)" ]; then
  echo "error: $target is not empty: a backup goes into a new directory." >&2
  exit 1
fi
mkdir -p "$target"
chmod 700 "$target"

# The database's connection as libpq variables (never on a command line, where `ps` shows it),
# and the key pair's paths, both read through the console's settings.
eval "$("$python" scripts/console_settings.py)"

# 1. The audit trail's head, verified before the dump: the dump then holds at least this head,
#    and restore.sh checks the restored trail against it.
status=0
if verified=$("$python" manage.py verify_audit_trail 2>&1); then
  echo "${verified##* head }" >"$target/audit-head"
else
  echo "$verified" >&2
  echo "error: the audit trail does not verify; the dump is written anyway, as evidence." >&2
  status=1
fi

# 2. The database, in one consistent snapshot (pg_dump's own transaction), while the console
#    keeps serving.
pg_dump --format=custom --file="$target/database.dump"

# 3. The token signing key pair.
install -m 600 "$REGISTRY_TOKEN_KEY_FILE" "$target/registry-token.key"
install -m 644 "$REGISTRY_TOKEN_CERT_FILE" "$target/registry-token.crt"

(cd "$target" && sha256sum database.dump registry-token.key registry-token.crt \
  $([ -f audit-head ] && echo audit-head) >SHA256SUMS)
echo "Backed up to $target (audit trail head $(cat "$target/audit-head" 2>/dev/null || echo unknown))."
exit $status
