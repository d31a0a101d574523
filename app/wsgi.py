"""WSGI entry point for Waitress (app.serve) and gunicorn (the seed's tests 2 to 4)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "app.settings")

application = get_wsgi_application()
