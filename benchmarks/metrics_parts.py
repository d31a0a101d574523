"""Each part of the instrumentation alone, in microseconds of CPU per request.

Run by ``python -m benchmarks.metrics_profile --parts`` in a process set up as the app with
metrics on (and, in multiprocess mode, ``PROMETHEUS_MULTIPROC_DIR`` set): each part is
called in a loop, on the real metric objects, around a stub where it wraps something (a
view that returns at once, a cursor whose execute does nothing), and its time per call,
less the loop's own, is multiplied by the calls a ``GET /`` makes.
"""

import os
import socket
import statistics
import time
from functools import partial

from benchmarks.metrics_profile import environ

CALLS = 20_000
REPEATS = 7
# GET / runs two queries: Django's health check of the persistent connection
# (CONN_HEALTH_CHECKS) and the page's read.
QUERIES = 2
HEROKU_STAMP = str(int(time.time() * 1000))


def per_call(function) -> float:
    """Median CPU microseconds per call."""
    timings = []
    for _ in range(REPEATS):
        started = time.process_time()
        for _ in range(CALLS):
            function()
        timings.append((time.process_time() - started) / CALLS * 1e6)
    return statistics.median(timings)


def nothing() -> None:
    pass


class StubCursor:
    """A driver cursor that answers at once, so only what wraps it is timed."""

    def __init__(self, connection=None):
        self.connection = connection

    def execute(self, query, vars=None):
        return None


def parts(multiprocess: bool) -> list[tuple[str, int, object, object]]:
    """(name, calls per GET /, function, what it wraps) for each part."""
    from django.core.handlers.wsgi import WSGIRequest
    from django.db import connection
    from django.http import HttpResponse
    from django.urls import resolve

    from dyno_metrics import connections, queue_time
    from dyno_metrics import gunicorn as hooks
    from dyno_metrics.db.base import counting_cursor
    from dyno_metrics.deadline import bounded_cursor
    from dyno_metrics.middleware import MetricsMiddleware, view_name

    connection.ensure_connection()  # one open connection, as a worker serving the page has
    request = WSGIRequest(environ())
    request.resolver_match = resolve("/")
    response = HttpResponse("x" * 140)
    middleware = MetricsMiddleware(lambda request: response)
    view = view_name(request)
    listening = socket.socket()
    counting = counting_cursor(StubCursor, "default", "postgresql")()
    bounded = bounded_cursor(StubCursor, 5)(listening)
    query = partial(StubCursor().execute, "SELECT 1")
    found = [
        ("the middleware, whole", 1, lambda: middleware(request), lambda: response),
        ("  its two perf_counter() calls", 2, time.perf_counter, nothing),
        (
            "  queue time without X-Request-Start",
            1,
            lambda: request.META.get("HTTP_X_REQUEST_START"),
            nothing,
        ),
        (
            "  queue time with Heroku's X-Request-Start",
            1,
            lambda: queue_time.observe(HEROKU_STAMP, time.time()),
            nothing,
        ),
        ("  requests and responses counters", 2, middleware._requests.inc, nothing),
        (
            "  responses by status, view, method",
            1,
            lambda: middleware._by_status[200, view, "GET"].inc(),
            nothing,
        ),
        (
            "  latency histogram",
            1,
            lambda: middleware._latency[view, "GET"].observe(0.004),
            nothing,
        ),
        (
            "the database backend's counting cursor",
            QUERIES,
            partial(counting.execute, "SELECT 1"),
            query,
        ),
        (
            "the query deadline (metrics on and off)",
            QUERIES,
            partial(bounded.execute, "SELECT 1"),
            query,
        ),
    ]
    if multiprocess:
        hooks.post_worker_init(type("Worker", (), {"sockets": []})())  # as a worker starts
        # Under gunicorn, each request's end publishes the worker's open connections.
        found.append(
            ("connection tracking's publish", 1, lambda: connections._publish(None), nothing)
        )
        found.append(
            (
                "gunicorn's pre_request and post_request hooks",
                1,
                lambda: (hooks.pre_request(None, None), hooks.post_request(None, None, {}, None)),
                nothing,
            )
        )
    return found


def main(multiprocess: bool) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "app.settings"
    import django

    django.setup()
    print(f"  {'part':44} {'us/call':>8} {'calls':>6} {'us/request':>10}")
    for name, calls, function, wrapped in parts(multiprocess):
        cost = per_call(function) - per_call(wrapped)
        print(f"  {name:44} {cost:8.2f} {calls:6} {cost * calls:10.2f}")
