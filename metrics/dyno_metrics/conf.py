"""The package's settings: every one optional, read from Django's settings with a default.

- ``METRICS_TOKEN`` (default: the ``METRICS_TOKEN`` environment variable, else unset):
  ``/metrics`` then answers 401 without ``Authorization: Bearer <token>``.
- ``METRICS_DATABASE`` (default: ``DATABASES["default"]``): a DATABASES-style entry where
  PostgreSQL's own view is read; the direct database when the app goes through a pooler.
- ``DYNO`` (default: the ``DYNO`` environment variable Heroku sets, else ``local``): labels
  ``app_info{dyno}`` and the l2met log lines.
"""

import os

from django.conf import settings


def metrics_token() -> str:
    return getattr(settings, "METRICS_TOKEN", None) or os.environ.get("METRICS_TOKEN", "")


def metrics_database() -> dict | None:
    """A DATABASES-style entry, or None for the app's own default database."""
    return getattr(settings, "METRICS_DATABASE", None)


def dyno() -> str:
    return getattr(settings, "DYNO", None) or os.environ.get("DYNO", "") or "local"
