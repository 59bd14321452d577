#!/usr/bin/env bash
# The whole test suite on a real PostgreSQL: `make test` runs this after installing .venv.
set -uo pipefail
cd "$(dirname "$0")/.."

scripts/system-deps.sh || exit 1
scripts/with-postgres.sh .venv/bin/python -m pytest "$@"
status=$?
if [ "$status" -eq 5 ]; then
  echo "error: pytest collected no tests; that is a failure, not a pass." >&2
  exit 1
fi
exit "$status"
