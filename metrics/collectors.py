"""The app's own series, registered once per process on prometheus-client's default registry.

django-prometheus brings request, response and database-driver series; prometheus-client's
default registry already carries the process and platform collectors. This adds open
database connections, PostgreSQL's view of its connections, the dyno's identity and,
once the Waitress launcher hands over its server, Waitress saturation.
"""

from django.conf import settings
from django.db import connections
from prometheus_client import REGISTRY, Info

from metrics import connections as open_connections
from metrics.postgres import PostgresCollector, connect_kwargs_from_settings
from metrics.waitress import WaitressCollector

_registered = False


def register(registry=REGISTRY) -> None:
    global _registered
    if _registered:
        return
    _registered = True
    open_connections.register(registry)
    registry.register(PostgresCollector(postgres_connect_kwargs()))
    # Series from several dynos are told apart by this label (Heroku sets DYNO).
    Info("app", "Which dyno this process is.", registry=registry).info(
        {"dyno": settings.DYNO or "local"}
    )


def postgres_connect_kwargs() -> dict:
    """Where PostgreSQL's view is read: METRICS_DATABASE_URL (direct, past a pooler), else
    the app's own database."""
    database = settings.METRICS_DATABASE or connections["default"].settings_dict
    return connect_kwargs_from_settings(database)


def watch_waitress(server, registry=REGISTRY) -> None:
    registry.register(WaitressCollector(server))
