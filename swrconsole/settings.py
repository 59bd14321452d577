"""SWR Console settings: one module, driven by the environment (see .env.example)."""

from __future__ import annotations

from pathlib import Path

from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from swrconsole.environment import Env
from swrconsole.logs import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"


env = Env()
# A .env beside manage.py is read when present; real environment variables win. Then each
# secret given as NAME_FILE is read from its file (swrconsole/environment.py).
Env.read_env(BASE_DIR / ".env", overwrite=False)
env.read_secret_files()


def _required_in_production(name: str, debug: bool, dev_default: str) -> str:
    value = env.str(name, default="")
    if value:
        return value
    if not debug:
        raise ImproperlyConfigured(
            f"{name} must be set when DEBUG is false (or {name}_FILE). Generate one with: "
            "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    return dev_default


DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = _required_in_production("SECRET_KEY", DEBUG, "dev-only-insecure-secret-key")
# Keyed digest of credential passwords; deliberately separate from SECRET_KEY so rotating
# session signing does not invalidate every registry credential.
CREDENTIAL_HASH_KEY = _required_in_production(
    "CREDENTIAL_HASH_KEY", DEBUG, "dev-only-insecure-credential-hash-key"
)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "credentials",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "csp",
]

MIDDLEWARE = [
    "credentials.middleware.ClientAddressMiddleware",
    "credentials.middleware.HealthCheckMiddleware",  # /healthz, before the host check
    "credentials.metrics.endpoint.MetricsMiddleware",  # /metrics, before the host check
    "credentials.middleware.RefuseNulBytesMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language: the switch's cookie, else the browser's Accept-Language, else English.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "credentials.identity.renewal.RenewalMiddleware",  # re-checks users with their provider
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "credentials.middleware.HtmxLoginRedirectMiddleware",
    "credentials.middleware.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "swrconsole.urls"
WSGI_APPLICATION = "swrconsole.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "credentials.console.context_processors.console",
            ],
        },
    },
]

# DATABASE_URL: the runtime role the console serves as; DATABASE_OWNER_URL: the role that owns
# the tables and runs migrations and prepare_database (unset: the one URL serves both, as in
# `make run`). See credentials/security/db_roles.py and docs/SECURITY.md.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'swrconsole.sqlite3'}")
}
if env.str("DATABASE_OWNER_URL", default=""):
    DATABASES["owner"] = env.db("DATABASE_OWNER_URL")
for _database in DATABASES.values():
    if _database["ENGINE"] == "django.db.backends.postgresql":
        # Persistent connections, checked before reuse (Django's `SELECT 1`) so a restarted
        # database is noticed.
        _database["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
        _database["CONN_HEALTH_CHECKS"] = True
        _database.setdefault("OPTIONS", {}).setdefault(
            "connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=5)
        )
        # Server-side binding lets psycopg prepare statements it sees repeatedly, so the hot
        # queries (session, user, credential lookups) are planned once per connection.
        if env.bool("DATABASE_SERVER_SIDE_BINDING", default=True):
            _database["OPTIONS"].setdefault("server_side_binding", True)
            _database["OPTIONS"].setdefault("prepare_threshold", 5)
    elif _database["ENGINE"] == "django.db.backends.sqlite3":
        VAR_DIR.mkdir(exist_ok=True)
        _database.setdefault("OPTIONS", {}).update(
            {"transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
        )
        # Tests on SQLite use a file beside the database, as `make run` does, not Django's
        # shared in-memory database: concurrent requests then wait for each other's writes
        # instead of failing with "database table is locked".
        if _database["NAME"] and _database["NAME"] != ":memory:":
            _name = Path(_database["NAME"])
            _database.setdefault("TEST", {}).setdefault(
                "NAME", str(_name.with_name(f"test_{_name.name}"))
            )

CACHES = {
    # Every counter (rate limits, throttling) lives here: Redis when several processes serve
    # (redis://host:6379/0), this process's memory otherwise (`make run`).
    "default": env.cache("CACHE_URL", default="locmemcache://"),
    # Rendered pages, kept apart so they never push out the rate limits' counters. Always
    # in-process: their keys carry the versions of what they show
    # (credentials/console/page_cache.py).
    "pages": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "pages",
        "TIMEOUT": 600,
        "OPTIONS": {"MAX_ENTRIES": 500},
    },
}

if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    # Django's Redis cache, with a per-process stand-in while Redis is down
    # (credentials/security/cache.py).
    CACHES["default"]["BACKEND"] = "credentials.security.cache.ResilientRedisCache"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "credentials.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Two languages (docs/DECISIONS.md "Languages"). The catalogs are in locale/, compiled to .mo
# by `make run`, `make test` and the Dockerfile (swrconsole/translations.py); never committed.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
# The switch in the top bar remembers the choice for a year, in a cookie scripts cannot read.
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = "UTC"
USE_TZ = True
# One date format with its time zone in every language (swrconsole/formats/).
FORMAT_MODULE_PATH = ["swrconsole.formats"]

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "var" / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Security -------------------------------------------------------------------------

# Sessions are signed cookies: no database query per request to find one. They end after
# SESSION_COOKIE_AGE seconds (default 8 hours) and when the browser closes, and signing out
# ends every session of the account (User.get_session_auth_hash); see docs/DECISIONS.md.
SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
CSRF_FAILURE_VIEW = "credentials.errors.csrf_failure"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
# Load balancers and probes call /healthz over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
# For example "HTTP_X_FORWARDED_PROTO,https" behind a TLS-terminating proxy.
_proxy_ssl_header = env.list("SECURE_PROXY_SSL_HEADER", default=[])
if _proxy_ssl_header:
    if len(_proxy_ssl_header) != 2:
        raise ImproperlyConfigured(
            "SECURE_PROXY_SSL_HEADER is 'HEADER,value', e.g. HTTP_X_FORWARDED_PROTO,https"
        )
    SECURE_PROXY_SSL_HEADER = tuple(_proxy_ssl_header)
# Proxies (addresses or networks) whose X-Forwarded-For and SSO header are believed.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
TRUSTED_PROXY_NETWORKS = env.networks("TRUSTED_PROXIES", default=[])
# Single sign-on: a header naming the user, set by a trusted proxy (off when empty).
SSO_HEADER = env.str("SSO_HEADER", default="")
if SSO_HEADER:
    if not TRUSTED_PROXIES:
        raise ImproperlyConfigured("SSO_HEADER needs TRUSTED_PROXIES: only they may set it.")
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
        "credentials.middleware.TrustedHeaderSSOMiddleware",
    )
# OpenID Connect sign-in (credentials/identity/); LOCAL_LOGIN=false: break-glass passwords only.
OIDC, LOCAL_LOGIN = env.sign_in()
AUTHENTICATION_BACKENDS = ["credentials.security.auth.ThrottledModelBackend"]
AUTHENTICATION_BACKENDS += ["credentials.security.auth.OidcBackend"] if OIDC.enabled else []
if SSO_HEADER:
    AUTHENTICATION_BACKENDS.append("credentials.security.auth.FederatedRemoteUserBackend")
# Failed sign-ins (django-ratelimit rates): from one address, any username; for one username
# from one address; for one username from all addresses — past that, only addresses that
# signed in as it before get through (credentials/security/throttling.py, docs/DECISIONS.md).
SIGN_IN_FAILURES_PER_IP = env.rate("SIGN_IN_FAILURES_PER_IP", default="30/15m")
SIGN_IN_FAILURES_PER_USERNAME = env.rate("SIGN_IN_FAILURES_PER_USERNAME", default="10/15m")
SIGN_IN_FAILURES_PER_USERNAME_ANYWHERE = env.rate(
    "SIGN_IN_FAILURES_PER_USERNAME_ANYWHERE", default="100/15m"
)
GRACEFUL_TIMEOUT, DRAIN_SECONDS = env.graceful_stop()  # on SIGTERM: gunicorn_worker.py

# No inline scripts or styles anywhere; htmx is told not to inject its indicator style.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}

# /metrics (credentials/metrics): for these networks, or with `Authorization: Bearer <token>`.
METRICS_ENABLED = env.bool("METRICS_ENABLED", default=True)
METRICS_ALLOWED_NETWORKS = env.networks("METRICS_ALLOWED_NETWORKS", ["127.0.0.1", "::1"])
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
if METRICS_TOKEN and len(METRICS_TOKEN) < 32:
    raise ImproperlyConfigured("METRICS_TOKEN must be at least 32 characters (or unset).")

# --- The console's own settings -------------------------------------------------------

SWR_DEFAULT_REGION = env.str("SWR_DEFAULT_REGION", default="cn-north-4")
SWR_DEFAULT_REGISTRY_NAME = env.str("SWR_DEFAULT_REGISTRY_NAME", default="default")
SWR_DEFAULT_REGISTRY_ADDRESS = env.str(
    "SWR_DEFAULT_REGISTRY_ADDRESS", default="swr.cn-north-4.myhuaweicloud.com"
)

# Upstream SWR API. Unset SWR_API_URL: the console serves the SWR and IAM contracts itself.
SWR_API_URL = env.str("SWR_API_URL", default="")
SWR_IAM_URL = env.str("SWR_IAM_URL", default="")
SWR_AUTH_TOKEN = env.str("SWR_AUTH_TOKEN", default="")
SWR_IAM_DOMAIN = env.str("SWR_IAM_DOMAIN", default="")
SWR_IAM_USER = env.str("SWR_IAM_USER", default="")
SWR_IAM_PASSWORD = env.str("SWR_IAM_PASSWORD", default="")
SWR_TIMEOUT_CONNECT = env.float("SWR_TIMEOUT_CONNECT", default=3.05)
SWR_TIMEOUT_READ = env.float("SWR_TIMEOUT_READ", default=10.0)
SWR_BUILTIN_API = not SWR_API_URL
# How long each process keeps its snapshot of regions and registries
# (credentials/registry_cache.py).
CATALOG_CACHE_SECONDS = env.int("CATALOG_CACHE_SECONDS", default=30)
# The one IAM account ("domain") name the built-in IAM API accepts; empty accepts any.
SWR_BUILTIN_IAM_DOMAIN = env.str("SWR_BUILTIN_IAM_DOMAIN", default="")
if SWR_API_URL and not SWR_AUTH_TOKEN:
    _missing = [
        name
        for name in ("SWR_IAM_URL", "SWR_IAM_DOMAIN", "SWR_IAM_USER", "SWR_IAM_PASSWORD")
        if not env.str(name, default="")
    ]
    if _missing:
        raise ImproperlyConfigured(
            "SWR_API_URL is set, so the console needs an X-Auth-Token: set SWR_AUTH_TOKEN, "
            f"or the IAM password grant ({', '.join(_missing)} missing)."
        )
for _name in ("SWR_TIMEOUT_CONNECT", "SWR_TIMEOUT_READ"):
    if globals()[_name] <= 0:
        raise ImproperlyConfigured(f"{_name} must be a positive number of seconds.")
TEMPORARY_CREDENTIALS_PER_MINUTE = env.positive_int("TEMPORARY_CREDENTIALS_PER_MINUTE", default=10)

# Registry token service (GET /service/token): the key pair that signs registry tokens.
REGISTRY_TOKEN_KEY_FILE = env.str(
    "REGISTRY_TOKEN_KEY_FILE", default=str(VAR_DIR / "registry-token.key")
)
REGISTRY_TOKEN_CERT_FILE = env.str(
    "REGISTRY_TOKEN_CERT_FILE", default=str(VAR_DIR / "registry-token.crt")
)
REGISTRY_TOKEN_ISSUER = env.str("REGISTRY_TOKEN_ISSUER", default="swrconsole")
REGISTRY_TOKEN_TTL = env.int("REGISTRY_TOKEN_TTL", default=300)
# The most a token grants on a repository, within what the credential's owner may do there
# ("pull" alone for a read-only registry).
REGISTRY_TOKEN_ACTIONS = env.choices(
    "REGISTRY_TOKEN_ACTIONS", ("pull", "push", "delete"), default=["pull", "push"]
)
# Whether a registry administrator's token may list every repository of the registry
# (`registry:catalog:*`, used by `podman search`); off: see docs/DECISIONS.md, "Scopes".
REGISTRY_TOKEN_CATALOG = env.bool("REGISTRY_TOKEN_CATALOG", default=False)
# How long a registry refresh token (offline access: docker login, containerd) may be used:
# a week; it ends sooner with its credential (see docs/DECISIONS.md, "Refresh tokens").
REGISTRY_REFRESH_TOKEN_TTL = env.int("REGISTRY_REFRESH_TOKEN_TTL", default=7 * 24 * 3600)
if REGISTRY_REFRESH_TOKEN_TTL <= 0:
    raise ImproperlyConfigured("REGISTRY_REFRESH_TOKEN_TTL must be a positive number of seconds.")
# Failed registry logins allowed: per client address, per username from one address, per
# username from all addresses (as for sign-in above).
REGISTRY_LOGIN_FAILURES_PER_IP = env.rate("REGISTRY_LOGIN_FAILURES_PER_IP", default="30/5m")
REGISTRY_LOGIN_FAILURES_PER_USERNAME = env.rate(
    "REGISTRY_LOGIN_FAILURES_PER_USERNAME", default="10/5m"
)
REGISTRY_LOGIN_FAILURES_PER_USERNAME_ANYWHERE = env.rate(
    "REGISTRY_LOGIN_FAILURES_PER_USERNAME_ANYWHERE", default="100/5m"
)

# Access keys (AK/SK) for Huawei's SDKs: their secret keys are kept encrypted with these
# Fernet keys (comma-separated, newest first: the first encrypts, any decrypts), never with
# SECRET_KEY. Make one with: python -c 'from cryptography.fernet import Fernet;
# print(Fernet.generate_key().decode())'
ACCESS_KEY_ENCRYPTION_KEYS = env.list(
    "ACCESS_KEY_ENCRYPTION_KEYS",
    default=[] if not DEBUG else ["ZGV2LW9ubHktaW5zZWN1cmUtYWNjZXNzLWtleS1rZXk="],
)
if not ACCESS_KEY_ENCRYPTION_KEYS:
    raise ImproperlyConfigured(
        "ACCESS_KEY_ENCRYPTION_KEYS must be set when DEBUG is false (or "
        "ACCESS_KEY_ENCRYPTION_KEYS_FILE). Generate one with: "
        "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
    )
try:
    from cryptography.fernet import Fernet as _Fernet

    for _key in ACCESS_KEY_ENCRYPTION_KEYS:
        _Fernet(_key)
except ValueError as exc:
    raise ImproperlyConfigured(
        "ACCESS_KEY_ENCRYPTION_KEYS: each key must be 32 url-safe base64-encoded bytes."
    ) from exc
ACCESS_KEYS_PER_USER = env.positive_int("ACCESS_KEYS_PER_USER", default=2)
# How far a signed request's X-Sdk-Date may be from the server's clock.
API_SIGNATURE_MAX_SKEW_MINUTES = env.int("API_SIGNATURE_MAX_SKEW_MINUTES", default=15)
# Refused API requests audited per client address and per access key ID; past these, refusals
# are still answered, and one event per window (with a count) is written from such an address.
API_AUTH_FAILURES_PER_IP = env.rate("API_AUTH_FAILURES_PER_IP", default="30/15m")
API_AUTH_FAILURES_PER_ACCESS_KEY = env.rate("API_AUTH_FAILURES_PER_ACCESS_KEY", default="10/15m")
API_AUTH_FAILURES_PER_ACCESS_KEY_ANYWHERE = env.rate(
    "API_AUTH_FAILURES_PER_ACCESS_KEY_ANYWHERE", default="100/15m"
)

LONG_TERM_CREDENTIALS_PER_REGISTRY = env.positive_int(
    "LONG_TERM_CREDENTIALS_PER_REGISTRY", default=100
)
LONG_TERM_PAGE_SIZE = 20

# --- Credential lifecycle: expiry, reminders, rotation, stale credentials ----------------


def _positive_int_or_none(name: str) -> int | None:
    """An optional policy in days: unset or empty means off."""
    raw = env.str(name, default="").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ImproperlyConfigured(f"{name} must be a whole number of days, 1 or more ({raw!r}).")
    return value


# The longest a new long-term credential may live, in days (unset: no cap, "Never" allowed).
LONG_TERM_MAX_DAYS = _positive_int_or_none("LONG_TERM_MAX_DAYS")
# Days before expiry at which the owner is e-mailed (and once more when it expires).
try:
    EXPIRY_REMINDER_DAYS = sorted(
        {int(day) for day in env.list("EXPIRY_REMINDER_DAYS", default=["14", "7", "1"])},
        reverse=True,
    )
except ValueError as exc:
    raise ImproperlyConfigured(
        f"EXPIRY_REMINDER_DAYS: whole numbers of days, e.g. 14,7,1 ({exc})"
    ) from exc
if any(day < 1 for day in EXPIRY_REMINDER_DAYS):
    raise ImproperlyConfigured("EXPIRY_REMINDER_DAYS: each day must be 1 or more.")
# How long the password replaced by Reset Password keeps working (0: it stops at once).
ROTATION_GRACE_HOURS = env.int("ROTATION_GRACE_HOURS", default=24)
if ROTATION_GRACE_HOURS < 0:
    raise ImproperlyConfigured("ROTATION_GRACE_HOURS must be 0 or more.")
# Credentials unused this many days are disabled by send_credential_reminders (unset: never).
DISABLE_UNUSED_AFTER_DAYS = _positive_int_or_none("DISABLE_UNUSED_AFTER_DAYS")
# The console's own address, for links in e-mails (no request to take it from there).
CONSOLE_URL = env.str("CONSOLE_URL", default="http://127.0.0.1:8000").rstrip("/")
# The audit trail also sent to a syslog receiver (manage.py stream_audit_trail; docs/AUDIT.md).
AUDIT_SYSLOG_URL = env.syslog_url("AUDIT_SYSLOG_URL")
AUDIT_SYSLOG_CA_FILE = env.syslog_ca_file("AUDIT_SYSLOG_CA_FILE", AUDIT_SYSLOG_URL)

# Mail (reminders): EMAIL_URL as django-environ reads it, e.g. smtp+tls://user:pass@host:587;
# unset, messages are written to the console (stderr) so `make run` needs no mail server.
_email = env.email_url_config(env.str("EMAIL_URL", default="") or "consolemail://")
# The SMTP password alone (say, from a Docker secret: EMAIL_HOST_PASSWORD_FILE) replaces the
# URL's, which then need not carry one.
if env.str("EMAIL_HOST_PASSWORD", default=""):
    _email["EMAIL_HOST_PASSWORD"] = env.str("EMAIL_HOST_PASSWORD")
vars().update(_email)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="SWR Console <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)

# Logs: JSON lines to stderr (text when DEBUG), optionally also to LOG_FILE; secrets masked.
LOG_FORMAT = env.str("LOG_FORMAT", default="text" if DEBUG else "json")
LOG_FILE = env.str("LOG_FILE", default="")
LOGGING = logging_config(
    log_format=LOG_FORMAT, log_file=LOG_FILE, level=env.str("LOG_LEVEL", default="INFO")
)
