"""Start-up checks: a configuration error is one line naming what to fix, never a traceback.

Used by manage.py, by gunicorn's master before it forks (gunicorn.conf.py) and by wsgi.py.
"""

from __future__ import annotations

import sys
from typing import NoReturn

from django.core.exceptions import ImproperlyConfigured


def fail(message: str) -> NoReturn:
    sys.stderr.write(f"error: {message}\n")
    sys.stderr.flush()
    sys.exit(1)


def setup_or_exit() -> None:
    """django.setup(), then the checks a server needs; one line and exit 1 on any problem."""
    import django

    try:
        django.setup()
        check_static_manifest()
    except ImproperlyConfigured as exc:
        fail(str(exc))


def check_static_manifest() -> None:
    """With hashed static names (DEBUG off), every page needs collectstatic's manifest: without
    it each page would be a 500."""
    from django.contrib.staticfiles.storage import ManifestFilesMixin
    from django.core.files.storage import storages

    storage = storages["staticfiles"]
    if not isinstance(storage, ManifestFilesMixin):
        return
    if not storage.manifest_storage.exists(storage.manifest_name):
        path = storage.manifest_storage.path(storage.manifest_name)
        raise ImproperlyConfigured(
            f"the static files manifest {path} is missing: run "
            "`python manage.py collectstatic --noinput` before starting the server."
        )
