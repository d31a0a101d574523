"""django_db_connections_open: database connections this process holds open now.

django-prometheus counts connections opened, not open ones. Django keeps one
connection per thread (per greenlet under gevent) and closes it at CONN_MAX_AGE or on
errors, with no signal for the close. So we keep a weak reference to every connection
wrapper Django creates and, at scrape time, count those whose driver connection is still
open: right under Waitress's threads, gevent's greenlets and any CONN_MAX_AGE, and a
wrapper that was garbage-collected with its thread simply drops out.
"""

import threading
import weakref

from django.db.backends.signals import connection_created
from prometheus_client import Gauge

_wrappers: "weakref.WeakSet" = weakref.WeakSet()
_lock = threading.Lock()


def _remember(sender, connection, **kwargs):
    with _lock:
        _wrappers.add(connection)


def count_open() -> int:
    with _lock:
        wrappers = list(_wrappers)
    return sum(
        1 for w in wrappers if w.connection is not None and not getattr(w.connection, "closed", 1)
    )


def register(registry) -> None:
    connection_created.connect(_remember, dispatch_uid="dyno_metrics.connections")
    gauge = Gauge(
        "django_db_connections_open",
        "Database connections this process holds open now.",
        registry=registry,
    )
    gauge.set_function(count_open)
