"""Logging filters for the settings' LOGGING dict."""

import logging
import time

from dyno_metrics import waitress


class WithoutTraceback(logging.Filter):
    """Keep the record's message, drop its traceback.

    A request with an unknown Host (the seed's first test sent 18,000 of them) is the
    client's mistake: one line each is enough, and the 400s are counted in the metrics.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info = None
        record.exc_text = None
        return True


class QueueWarningSummary(logging.Filter):
    """Waitress's "Task queue depth is N" warning, at most one line every few seconds, with
    the figures that matter.

    Waitress logs it on ``waitress.queue`` for every request that has to wait for a thread:
    142,303 lines (10 MB) in one overload run, enough to make Heroku's Logplex drop lines
    (L10), the router's and runtime's with them. It logs under the task dispatcher's lock,
    so the figures are read without taking it again.
    """

    def __init__(self, server, interval_seconds: float = 5.0, clock=time.monotonic):
        super().__init__()
        self._server = server
        self._interval = interval_seconds
        self._clock = clock
        self._next_at = None
        self._suppressed = 0

    def filter(self, record: logging.LogRecord) -> bool:
        now = self._clock()
        if self._next_at is not None and now < self._next_at:
            self._suppressed += 1
            return False
        self._next_at = now + self._interval
        figures = waitress.read_holding_lock(self._server)
        record.msg = (
            "requests wait for a thread: %d queued (the oldest for %.1f s), %d of %d threads"
            " busy, %d of %d connections open; %d such warnings not logged since the last"
        )
        record.args = (
            figures.queue_depth,
            self._oldest_wait(),
            figures.threads_busy,
            figures.threads,
            figures.connections,
            figures.connection_limit,
            self._suppressed,
        )
        self._suppressed = 0
        return True

    def _oldest_wait(self) -> float:
        queue = self._server.task_dispatcher.queue
        if not queue:
            return 0.0
        channel = queue[0]  # a channel is queued for its first request
        received_at = (
            getattr(channel.requests[0], "received_at", None) if channel.requests else None
        )
        return max(0.0, time.time() - (received_at or channel.last_activity))
