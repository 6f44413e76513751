"""WSGI entry point for production servers (gunicorn octopushx.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

from octopushx.core.startup import freeze_loaded

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "octopushx.settings")
application = get_wsgi_application()
freeze_loaded()
