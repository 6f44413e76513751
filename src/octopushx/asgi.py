"""ASGI entry point (uvicorn octopushx.asgi:application)."""

import os

from django.core.asgi import get_asgi_application

from octopushx.core.startup import freeze_loaded

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "octopushx.settings")
application = get_asgi_application()
freeze_loaded()
