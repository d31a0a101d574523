"""The app's own series, registered once per process on prometheus-client's default registry.

django-prometheus brings request, response and database-driver series; prometheus-client's
default registry already carries the process and platform collectors. This adds open
database connections, PostgreSQL's view of its connections, the dyno's identity and,
once the Waitress launcher hands over its server, Waitress saturation and its listen queue.
"""

from django.db import connections
from prometheus_client import REGISTRY, Info

from dyno_metrics import conf
from dyno_metrics import connections as open_connections
from dyno_metrics.listen_queue import ListenQueueCollector
from dyno_metrics.postgres import PostgresCollector, connect_kwargs_from_settings
from dyno_metrics.waitress import WaitressCollector, listeners

_registered = False


def register(registry=REGISTRY) -> None:
    global _registered
    if _registered:
        return
    _registered = True
    open_connections.register(registry)
    registry.register(PostgresCollector(postgres_connect_kwargs()))
    # Series from several dynos are told apart by this label (Heroku sets DYNO).
    Info("app", "Which dyno this process is.", registry=registry).info({"dyno": conf.dyno()})


def postgres_connect_kwargs() -> dict:
    """Where PostgreSQL's view is read: METRICS_DATABASE_URL (direct, past a pooler), else
    the app's own database."""
    database = conf.metrics_database() or connections["default"].settings_dict
    return connect_kwargs_from_settings(database)


def watch_waitress(server, registry=REGISTRY) -> None:
    """Waitress's saturation, and the connections waiting before it accepts them."""
    registry.register(WaitressCollector(server))
    registry.register(ListenQueueCollector(lambda: [part.socket for part in listeners(server)]))
