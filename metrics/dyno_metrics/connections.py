"""django_db_connections_open: database connections this process holds open now.

django-prometheus counts connections opened, not open ones. Django keeps one
connection per thread (per greenlet under gevent) and closes it at CONN_MAX_AGE or on
errors, with no signal for the close. So we keep a weak reference to every connection
wrapper Django creates and, at scrape time, count those whose driver connection is still
open: right under Waitress's threads, gevent's greenlets and any CONN_MAX_AGE, and a
wrapper that was garbage-collected with its thread simply drops out.

The driver learns that the server dropped a connection (a restart, pg_terminate_backend,
an idle timeout, a TCP keepalive that went unanswered) only when it next uses it. So an
open connection is counted only while its socket is healthy too: a poll() that does not
read, and so does not disturb the thread that owns the connection, tells whether the server
closed its end (POLLRDHUP, POLLHUP) or the socket failed (POLLERR).

Under gunicorn's workers (multiprocess mode) a scrape is served by one worker, which cannot
count another's connections: each worker then counts its own whenever the count may have
changed (a connection opened; a request finished, after Django closed what CONN_MAX_AGE
expired), writes it when it did change, and the scrape sums the live workers' counts
(``livesum``).
"""

import os
import select
import threading
import weakref

from django.core.signals import request_finished
from django.db.backends.signals import connection_created
from prometheus_client import Gauge

from dyno_metrics import multiprocess

_wrappers: "weakref.WeakSet" = weakref.WeakSet()
_lock = threading.Lock()


def _remember(sender, connection, **kwargs):
    with _lock:
        _wrappers.add(connection)


_DROPPED = select.POLLRDHUP | select.POLLHUP | select.POLLERR | select.POLLNVAL


def count_open() -> int:
    with _lock:
        wrappers = list(_wrappers)
    return sum(1 for w in wrappers if _is_open(w.connection))


def _is_open(driver_connection) -> bool:
    if driver_connection is None or getattr(driver_connection, "closed", 1):
        return False
    try:
        fd = driver_connection.fileno()
    except Exception:  # psycopg 3 raises once closed by its own thread meanwhile
        return False
    poller = select.poll()
    poller.register(fd, _DROPPED)
    return not any(events & _DROPPED for _, events in poller.poll(0))


def register(registry) -> None:
    global _gauge
    connection_created.connect(_remember, dispatch_uid="dyno_metrics.connections")
    _gauge = Gauge(
        "django_db_connections_open",
        "Database connections the app's processes hold open now.",
        registry=registry,
        multiprocess_mode="livesum",
    )
    if multiprocess.enabled():
        connection_created.connect(_publish, dispatch_uid="dyno_metrics.connections.opened")
        # Connected after django.db's close_old_connections, so it runs after it.
        request_finished.connect(_publish, dispatch_uid="dyno_metrics.connections.finished")
    else:
        _gauge.set_function(count_open)


_gauge: Gauge | None = None
# What this process last wrote, by process: a write is a file update in multiprocess mode,
# and the count rarely changes from one request to the next. A forked worker starts afresh.
_published: tuple[int, int] | None = None


def _publish(sender, **kwargs):
    global _published
    current = (os.getpid(), count_open())
    with _lock:  # a gthread worker's threads: the last count written is the one remembered
        if current != _published:
            _published = current
            _gauge.set(current[1])
