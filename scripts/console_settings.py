"""Print, as shell `export` lines, what scripts/backup.sh and scripts/restore.sh need from the
console's settings: the database as libpq variables (the owner's when DATABASE_OWNER_URL is
set, else DATABASE_URL's) and the registry token key pair's paths. Read through the settings,
so every form the console accepts (URLs, *_FILE secrets) works here too.

Run from the project's directory: `eval "$(python scripts/console_settings.py)"`.
"""

from __future__ import annotations

import os
import shlex
import sys

sys.path.insert(0, os.getcwd())
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "swrconsole.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402

database = settings.DATABASES.get("owner") or settings.DATABASES["default"]
if database["ENGINE"] != "django.db.backends.postgresql":
    sys.exit("error: backups are of PostgreSQL: DATABASE_URL names another database.")
options = database.get("OPTIONS", {})
variables = {
    "PGHOST": database.get("HOST", ""),
    "PGPORT": database.get("PORT", ""),
    "PGUSER": database.get("USER", ""),
    "PGPASSWORD": database.get("PASSWORD", ""),
    "PGDATABASE": database["NAME"],
    "PGSSLMODE": options.get("sslmode", ""),
    "PGSSLROOTCERT": options.get("sslrootcert", ""),
    "REGISTRY_TOKEN_KEY_FILE": str(settings.REGISTRY_TOKEN_KEY_FILE),
    "REGISTRY_TOKEN_CERT_FILE": str(settings.REGISTRY_TOKEN_CERT_FILE),
}
for name, value in variables.items():
    if value:
        print(f"export {name}={shlex.quote(str(value))}")
