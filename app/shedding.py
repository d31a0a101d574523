"""Answer 503 at once to a request that has waited past the queue-time budget.

Under overload a queue in front of the app grows until every request waits longer than its
client does: the dyno then spends its CPU on answers nobody reads, and its goodput falls
to nothing (an open-loop load at twice a dyno's capacity here: no successful response for
90 s). A request that has already waited ``QUEUE_TIME_BUDGET`` seconds when a thread takes
it gets a 503 with ``Retry-After`` before Django runs. ``app.admission`` turns most of the
excess away earlier and for less (in the event loop, before a thread); this is the last
check, for a request that waited past the budget in Waitress's own queue.

The wait is counted from the router's ``X-Request-Start`` stamp when there is one, else from
the moment Waitress finished reading the request (``app.waitress_channel``). ``/metrics`` is
never shed: it is how the overload is seen.
"""

import time

from prometheus_client import Counter

from app.waitress_channel import RECEIVED_AT
from dyno_metrics.queue_time import FUTURE_TOLERANCE_SECONDS, parse_request_start

SHED = Counter(
    "http_requests_shed",
    "Requests answered 503 without running the app: they waited past the queue-time budget,"
    " or came while the dyno's queue held over a second of work.",
)
BODY = b"Service unavailable: the request waited too long in the queue; retry shortly.\n"
NEVER_SHED = frozenset({"/metrics"})


def stamped_at(stamp: str | None, now: float) -> float | None:
    """When the router stamped the request (``X-Request-Start``), or None without a stamp
    that can be trusted (missing, malformed, or ahead of this clock)."""
    started = parse_request_start(stamp) if stamp else None
    return None if started is None or started > now + FUTURE_TOLERANCE_SECONDS else started


def waited(environ: dict, now: float) -> float | None:
    """Seconds the request has waited: since the router stamped it, else since it arrived."""
    started = stamped_at(environ.get("HTTP_X_REQUEST_START"), now)
    if started is None:
        started = environ.get(RECEIVED_AT)
    return None if started is None else now - started


class ShedStaleRequests:
    def __init__(self, application, budget_seconds: float):
        self.application = application
        self.budget_seconds = budget_seconds

    def __call__(self, environ, start_response):
        wait = waited(environ, time.time())
        if wait is None or wait <= self.budget_seconds or environ.get("PATH_INFO") in NEVER_SHED:
            return self.application(environ, start_response)
        SHED.inc()
        start_response(
            "503 Service Unavailable",
            [
                ("Content-Type", "text/plain; charset=utf-8"),
                ("Content-Length", str(len(BODY))),
                ("Retry-After", "1"),
            ],
        )
        return [BODY]
