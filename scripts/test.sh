#!/usr/bin/env bash
# The whole test suite, on both databases the console runs on: `make test` runs this after
# installing .venv.
#   1. PostgreSQL (a throwaway cluster, scripts/with-postgres.sh): every test.
#   2. SQLite (the embedded default of `make run`): every test but those marked `postgresql`,
#      which test PostgreSQL itself or the deployment on it (README.md lists them).
#   With both, what does not depend on the database runs once (marked `database_independent`:
#   in the PostgreSQL pass) and the browser flows' variants are shared out (tests/passes.py).
# TEST_DATABASES="postgresql" (or "sqlite") runs one pass only; arguments go to pytest.
set -uo pipefail
cd "$(dirname "$0")/.."

scripts/system-deps.sh || exit 1
# axe-core for the browser tests (test-only, pinned in tests/browser/package.json and its lock):
# installed into tests/browser/node_modules, again whenever the lock file changes.
if [ ! tests/browser/node_modules/.package-lock.json -nt tests/browser/package-lock.json ]; then
  npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error || exit 1
fi
# The OpenID provider for the sign-in tests (test-only: npm's oidc-provider, pinned in
# tests/oidc/package.json and its lock), likewise into tests/oidc/node_modules.
if [ ! tests/oidc/node_modules/.package-lock.json -nt tests/oidc/package-lock.json ]; then
  npm ci --prefix tests/oidc --no-audit --no-fund --loglevel=error || exit 1
fi
mkdir -p test-artifacts

run_pass() {  # run_pass NAME COMMAND...: one pytest run; its exit status, 5 (none ran) an error
  local name=$1 status
  shift
  echo "== Test suite on $name"
  "$@"
  status=$?
  if [ "$status" -eq 5 ]; then
    if [ -n "$SELECTED" ]; then
      echo "(no test of this selection runs on $name)"
      rm -f "test-artifacts/junit-$name.xml"
      return 0
    fi
    echo "error: pytest collected no tests on $name; that is a failure, not a pass." >&2
    return 1
  fi
  return "$status"
}

SELECTED="$*"
# The SQLite pass leaves out the PostgreSQL-only tests, within any -m of the caller's (pytest
# keeps only the last -m it is given).
sqlite_marker="not postgresql"
sqlite_args=()
for ((i = 1; i <= $#; i++)); do
  arg=${!i}
  if [ "$arg" = "-m" ] && [ "$i" -lt "$#" ]; then
    i=$((i + 1))
    sqlite_marker="(${!i}) and not postgresql"
  else
    sqlite_args+=("$arg")
  fi
done
rm -f test-artifacts/junit-postgresql.xml test-artifacts/junit-sqlite.xml
overall=0
sqlite_dir=$(mktemp -d /tmp/swrconsole-sqlite.XXXXXX)
trap 'rm -rf "$sqlite_dir"' EXIT
# With both passes, the tests whose subject is not the database run once, and the browser
# flows' language and width variants are shared out between the passes (tests/passes.py).
databases=(${TEST_DATABASES:-postgresql sqlite})
share() { [ "${#databases[@]}" -gt 1 ] && echo "$1" || true; }
for database in "${databases[@]}"; do
  case "$database" in
    postgresql)
      run_pass postgresql env SWR_TEST_SHARE="$(share postgresql)" \
        scripts/with-postgres.sh .venv/bin/python -m pytest \
        --junitxml=test-artifacts/junit-postgresql.xml "$@" || overall=1 ;;
    sqlite)
      run_pass sqlite env DATABASE_URL="sqlite:///$sqlite_dir/swrconsole.sqlite3" \
        SWR_TEST_SHARE="$(share sqlite)" \
        .venv/bin/python -m pytest -m "$sqlite_marker" \
        --junitxml=test-artifacts/junit-sqlite.xml ${sqlite_args[@]+"${sqlite_args[@]}"} \
        || overall=1 ;;
    *) echo "error: TEST_DATABASES takes postgresql and sqlite, not '$database'." >&2; exit 2 ;;
  esac
done

# One closing line for both passes.
.venv/bin/python - ${TEST_DATABASES:-postgresql sqlite} <<'PY'
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
for name in sys.argv[1:]:
    report = Path(f"test-artifacts/junit-{name}.xml")
    if report.exists():
        for suite in ET.parse(report).getroot().iter("testsuite"):
            for key in totals:
                totals[key] += int(suite.get(key, 0))
failed = totals["failures"] + totals["errors"]
passed = totals["tests"] - failed - totals["skipped"]
print(f"suite: {passed} passed, {failed} failed, {totals['skipped']} skipped")
PY
exit "$overall"
