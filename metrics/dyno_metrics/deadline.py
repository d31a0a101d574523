"""A client-side deadline on PostgreSQL calls: the one bound a frozen server cannot defeat.

libpq bounds connecting (``connect_timeout``) and, over TCP, a peer that stops acknowledging
(``tcp_user_timeout``, keepalives); ``statement_timeout`` is enforced by the server. None of
them ends a query sent to a server that is alive at the TCP level but does not answer: a
stopped or wedged PostgreSQL, whose kernel still acknowledges every packet, or a connection
over a Unix socket, where libpq has no timeout at all. The call then blocks until the server
answers, for ever if it never does.

So each bounded call registers its connection's socket with one watchdog thread, which shuts
the socket down when the call outlives its deadline. The driver then fails the call with its
own ``OperationalError`` ("server closed the connection unexpectedly") and marks the
connection broken, as if the server had dropped it: Django turns that into a 503 and opens a
new connection on the next request. Works for psycopg 3 and psycopg2 (both expose
``fileno()``), over TCP and Unix sockets. A call costs a dict insert and delete under a lock.
"""

import functools
import os
import socket
import threading
import time
from contextlib import contextmanager

# How often the watchdog looks for overdue calls: a call is cut within this of its deadline.
CHECK_INTERVAL_SECONDS = 0.25


def tcp_bounds(seconds: float) -> dict:
    """libpq connection keywords (psycopg 3 and psycopg2 take them alike) that end a TCP
    connection whose peer went away (failover, partition) instead of retransmitting for about
    15 minutes: data unacknowledged for `seconds`, or an idle connection whose keepalive
    probes go unanswered for a minute. libpq ignores them over Unix sockets.
    https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-KEEPALIVES"""
    return {
        "keepalives": 1,
        "keepalives_idle": 30,
        "keepalives_interval": 10,
        "keepalives_count": 3,
        "tcp_user_timeout": int(seconds * 1000),
    }


class _Watchdog:
    def __init__(self):
        self._lock = threading.Lock()
        self._calls: dict[int, tuple[float, int]] = {}  # id -> (deadline, socket fd)
        self._next_id = 0
        self._watching_pid: int | None = None

    def register(self, fd: int, seconds: float) -> int:
        with self._lock:
            self._next_id += 1
            self._calls[self._next_id] = (time.monotonic() + seconds, fd)
            # Started in the process that queries: a forked worker (gunicorn's) does not
            # inherit its parent's thread.
            if self._watching_pid != os.getpid():
                self._watching_pid = os.getpid()
                threading.Thread(
                    target=self._watch, name="dyno-metrics-deadline", daemon=True
                ).start()
            return self._next_id

    def unregister(self, call_id: int) -> None:
        # Under the lock: once this returns, the watchdog never touches the socket again,
        # so it cannot cut the connection's next call.
        with self._lock:
            self._calls.pop(call_id, None)

    def _watch(self) -> None:
        while True:
            time.sleep(CHECK_INTERVAL_SECONDS)
            now = time.monotonic()
            with self._lock:
                for call_id, (deadline, fd) in list(self._calls.items()):
                    if now >= deadline:
                        del self._calls[call_id]
                        _shut_down(fd)


def _shut_down(fd: int) -> None:
    """Shut the connection's socket down under the driver; its own descriptor stays open,
    so the driver fails the call and closes it as usual."""
    try:
        with socket.socket(fileno=os.dup(fd)) as sock:
            sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed by the peer: the call is failing anyway


_watchdog = _Watchdog()


@contextmanager
def deadline(connection, seconds: float):
    """Fail any call on this driver connection that takes longer than `seconds`."""
    call_id = _watchdog.register(connection.fileno(), seconds)
    try:
        yield
    finally:
        _watchdog.unregister(call_id)


@functools.cache
def bounded_cursor(cursor_class: type, seconds: float) -> type:
    """A subclass of a driver's cursor class whose execute and executemany end within
    `seconds`; use it as the connection's ``cursor_factory``."""

    class BoundedCursor(cursor_class):
        def execute(self, *args, **kwargs):
            with deadline(self.connection, seconds):
                return super().execute(*args, **kwargs)

        def executemany(self, *args, **kwargs):
            with deadline(self.connection, seconds):
                return super().executemany(*args, **kwargs)

    return BoundedCursor


def bound_django_queries(seconds: float) -> None:
    """Bound every query Django sends from now on, health checks (CONN_HEALTH_CHECKS)
    included: each new connection gets a bounded ``cursor_factory``. Call it once, from an
    AppConfig's ready(); calling it again changes the bound for later connections."""
    from django.db.backends.signals import connection_created

    def bound(sender, connection, **kwargs):
        driver_connection = connection.connection
        driver_connection.cursor_factory = bounded_cursor(driver_connection.cursor_factory, seconds)

    # weak=False: nothing else holds this closure. The dispatch_uid replaces an earlier one.
    connection_created.disconnect(dispatch_uid=__name__)
    connection_created.connect(bound, weak=False, dispatch_uid=__name__)
