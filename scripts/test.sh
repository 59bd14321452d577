#!/usr/bin/env bash
# The whole test suite on a real PostgreSQL: `make test` runs this after installing .venv.
set -uo pipefail
cd "$(dirname "$0")/.."

scripts/system-deps.sh || exit 1
# axe-core for the browser tests (test-only, pinned in tests/browser/package.json and its lock):
# installed into tests/browser/node_modules, again whenever the lock file changes.
if [ ! tests/browser/node_modules/.package-lock.json -nt tests/browser/package-lock.json ]; then
  npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error || exit 1
fi
scripts/with-postgres.sh .venv/bin/python -m pytest "$@"
status=$?
if [ "$status" -eq 5 ]; then
  echo "error: pytest collected no tests; that is a failure, not a pass." >&2
  exit 1
fi
exit "$status"
