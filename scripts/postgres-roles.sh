#!/bin/sh
# docker-compose: run once by the postgres image on an empty data directory (as its superuser).
# The owner role owns the database and runs migrations (DATABASE_OWNER_URL); the console
# serves as the runtime role (DATABASE_URL), which `manage.py prepare_database` grants only
# what serving needs (credentials/security/db_roles.py, docs/SECURITY.md).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v owner_password="$DATABASE_OWNER_PASSWORD" -v runtime_password="$DATABASE_RUNTIME_PASSWORD" \
  -v database="$POSTGRES_DB" <<'SQL'
CREATE ROLE swrconsole_owner LOGIN PASSWORD :'owner_password';
CREATE ROLE swrconsole LOGIN PASSWORD :'runtime_password';
ALTER DATABASE :"database" OWNER TO swrconsole_owner;
ALTER SCHEMA public OWNER TO swrconsole_owner;
REVOKE ALL ON DATABASE :"database" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"database" TO swrconsole;
SQL
