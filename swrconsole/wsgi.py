from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

from swrconsole.startup import setup_or_exit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "swrconsole.settings")

# Refuses to serve (one line, exit 1) rather than answer every page with a 500.
setup_or_exit()
application = get_wsgi_application()
