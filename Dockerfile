# SWR Console: gunicorn serving Django, static files by WhiteNoise. See README "Production".
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# Hashed, compressed static files are built into the image.
RUN DEBUG=false SECRET_KEY=collectstatic-only CREDENTIAL_HASH_KEY=collectstatic-only \
    ACCESS_KEY_ENCRYPTION_KEYS=Y29sbGVjdHN0YXRpYy1vbmx5LW5vdC1hLXJlYWwta2U= \
    python manage.py collectstatic --noinput \
 && python -m swrconsole.translations \
 && useradd --system --uid 10001 --home-dir /app swrconsole \
 && mkdir -p /app/var/keys && chown -R swrconsole /app/var

USER swrconsole
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD python -c "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"
CMD ["sh", "-c", "python manage.py prepare_database --wait 120 && exec gunicorn -c gunicorn.conf.py swrconsole.wsgi"]
