#!/usr/bin/env bash
# Make sure the system programs the test suite drives are present:
#   chromium (browser tests), docker-registry + skopeo, containerd (containerd and ctr),
#   podman and buildah (registry end-to-end, one test file per client), PostgreSQL,
#   docker-compose (validates docker-compose.yml), curl (the built-in API's curl test),
#   redis-server (the rate limits shared by several gunicorn processes),
#   npm (installs axe-core, the browser tests' accessibility checker, and the OpenID provider
#   the sign-in tests run on node: npm's oidc-provider),
#   gettext (msgfmt checks the translation catalogs; makemessages extracts strings),
#   fonts-wqy-microhei (Chinese glyphs in the browser tests' screenshots),
#   prometheus (with promtool: scrapes gunicorn replicas, checks deploy/*.yml),
#   rsyslog and rsyslog-gnutls (the audit stream's real syslog receiver, over TCP and TLS),
#   haproxy (deploy/haproxy.cfg in front of gunicorn replicas, restarted and killed under load).
# As root on Debian they are installed with apt; otherwise a missing one is an error
# with a clear message (the suite never skips them silently).
set -euo pipefail

missing=()
command -v "${CHROMIUM:-/usr/bin/chromium}" >/dev/null 2>&1 || missing+=(chromium)
command -v docker-registry >/dev/null 2>&1 || missing+=(docker-registry)
command -v skopeo >/dev/null 2>&1 || missing+=(skopeo)
command -v containerd >/dev/null 2>&1 || missing+=(containerd)
command -v ctr >/dev/null 2>&1 || missing+=(containerd)
command -v podman >/dev/null 2>&1 || missing+=(podman)
command -v buildah >/dev/null 2>&1 || missing+=(buildah)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v msgfmt >/dev/null 2>&1 || missing+=(gettext)
command -v npm >/dev/null 2>&1 || missing+=(npm)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
# rsyslogd lives in /usr/sbin, which a user's PATH may not hold.
[ -x /usr/sbin/rsyslogd ] || command -v rsyslogd >/dev/null 2>&1 || missing+=(rsyslog)
ls /usr/lib/*/rsyslog/lmnsd_gtls.so >/dev/null 2>&1 || missing+=(rsyslog-gnutls)
[ -x /usr/sbin/haproxy ] || command -v haproxy >/dev/null 2>&1 || missing+=(haproxy)
fc-list :lang=zh 2>/dev/null | grep -q . || missing+=(fonts-wqy-microhei)
if [ -z "${DATABASE_URL:-}" ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
    && ! command -v initdb >/dev/null 2>&1; then
  missing+=(postgresql)
fi

[ ${#missing[@]} -eq 0 ] && exit 0
# containerd and prometheus are named once for each of their two programs.
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
  # Debian starts a server when it installs redis-server; the tests start their own.
  if printf '%s\n' "${missing[@]}" | grep -qx redis-server; then
    (command -v service >/dev/null && service redis-server stop >/dev/null 2>&1) || true
  fi
  # Debian starts Prometheus when it installs it; the tests start their own.
  if printf '%s\n' "${missing[@]}" | grep -qx prometheus; then
    (command -v service >/dev/null && service prometheus stop >/dev/null 2>&1) || true
  fi
  # Debian starts rsyslog when it installs it (where there is an init); the tests run their own.
  if printf '%s\n' "${missing[@]}" | grep -qx rsyslog; then
    (command -v service >/dev/null && service rsyslog stop >/dev/null 2>&1) || true
  fi
  # Debian starts haproxy when it installs it; the tests start their own.
  if printf '%s\n' "${missing[@]}" | grep -qx haproxy; then
    (command -v service >/dev/null && service haproxy stop >/dev/null 2>&1) || true
  fi
  # Debian starts a cluster when it installs postgresql; the tests use their own.
  if printf '%s\n' "${missing[@]}" | grep -qx postgresql; then
    (command -v pg_ctlcluster >/dev/null && pg_lsclusters -h 2>/dev/null | while read -r ver name _; do
      pg_ctlcluster "$ver" "$name" stop || true; done) || true
  fi
  exit 0
fi

echo "error: the test suite needs these system packages: ${missing[*]}" >&2
echo "Install them (Debian: sudo apt-get install ${missing[*]}) or run as root." >&2
exit 1
