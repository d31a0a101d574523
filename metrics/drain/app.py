"""The receiver as a WSGI app: POST /logs (Heroku's HTTPS drain), GET /metrics, GET /healthz.

It faces the internet: credentials and the drain token are compared in constant time, the
body is bounded, a retried batch (same Logplex-Frame-Id) is read once, and whatever the body
holds the answer is a quick 204 (broken frames and lines are counted, never a 500).
"""

import base64
import hmac
import threading
import time

from prometheus_client import CollectorRegistry, ProcessCollector
from prometheus_client.core import CounterMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from metrics.drain.collector import DrainCollector
from metrics.drain.ingest import ingest_body
from metrics.drain.recent import RecentIds
from metrics.drain.settings import Settings
from metrics.drain.store import Store

LOGPLEX_CONTENT_TYPE = "application/logplex-1"


class ReceiverStats:
    """The receiver's own counters (batches = POSTs, frames = the messages inside them)."""

    def __init__(self):
        self.counts: dict[str, int] = {}
        self._lock = threading.Lock()  # Waitress serves POSTs on several threads

    def add(self, name: str, amount: int = 1) -> None:
        with self._lock:
            self.counts[name] = self.counts.get(name, 0) + amount

    def families(self):
        def counter(key, help_text):
            name = f"heroku_drain_{key}"
            return CounterMetricFamily(name, help_text, value=self.counts.get(key, 0))

        rejected = CounterMetricFamily(
            "heroku_drain_batches_rejected",
            "POSTs to /logs refused, by reason (auth, token, content_type, too_large, bad_length).",
            labels=["reason"],
        )
        for reason in ("auth", "token", "content_type", "too_large", "bad_length"):
            rejected.add_metric([reason], self.counts.get(f"rejected_{reason}", 0))
        return [
            counter("batches_received", "Logplex batches (POSTs) accepted."),
            counter(
                "batches_duplicate",
                "Batches skipped because their Logplex-Frame-Id was already read (retries).",
            ),
            counter(
                "batches_count_mismatch",
                "Batches whose frame count differs from their Logplex-Msg-Count header.",
            ),
            rejected,
            counter("frames_received", "Well-formed syslog frames read."),
            counter(
                "frames_malformed",
                "Frames skipped: bad octet count, wrong length or not RFC 5424.",
            ),
        ]


def _response(start_response, status: str, body: bytes = b"", headers=()):
    content_type = [("Content-Type", "text/plain; charset=utf-8")] if body else []
    start_response(status, [*content_type, ("Content-Length", str(len(body))), *headers])
    return [body]


def _equal(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


class DrainApp:
    def __init__(self, settings: Settings, clock=time.monotonic):
        self.settings = settings
        self.clock = clock
        self.store = Store(limits=settings.limits)
        self.stats = ReceiverStats()
        self.recent = RecentIds(settings.recent_frame_ids)
        self.registry = CollectorRegistry()
        self.registry.register(
            DrainCollector(
                self.store, clock, settings.pg_plan_max_connections, extra=self.stats.families
            )
        )
        self.registry.register(ProcessCollector(registry=None))

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "")
        if path == "/logs":
            if method != "POST":
                return _response(start_response, "405 Method Not Allowed", b"POST only\n")
            return self._logs(environ, start_response)
        if path == "/metrics" and method in ("GET", "HEAD"):
            return self._metrics(environ, start_response)
        if path == "/healthz" and method in ("GET", "HEAD"):
            return _response(start_response, "200 OK", b"ok\n")
        return _response(start_response, "404 Not Found", b"not found\n")

    def _authorised(self, environ) -> bool:
        """Basic auth from the drain URL; both parts compared in constant time."""
        header = environ.get("HTTP_AUTHORIZATION", "")
        scheme, _, encoded = header.partition(" ")
        try:
            decoded = base64.b64decode(encoded, validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            decoded = ""
        username, _, password = decoded.partition(":")
        user_ok = _equal(username, self.settings.username)
        password_ok = _equal(password, self.settings.password)
        return scheme.lower() == "basic" and user_ok & password_ok

    def _logs(self, environ, start_response):
        refusal = self._refusal(environ)
        if refusal is not None:
            reason, status, message, headers = refusal
            self.stats.add(f"rejected_{reason}")
            return _response(start_response, status, message, headers)
        # Read at most one byte past the limit, so an oversized body is refused unread.
        limit = self.settings.max_body_bytes
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or limit + 1))
        if len(body) > limit:
            self.stats.add("rejected_too_large")
            return _response(start_response, "413 Content Too Large", b"body too large\n")
        frame_id = environ.get("HTTP_LOGPLEX_FRAME_ID", "")
        if frame_id and self.recent.seen_before(frame_id):
            self.stats.add("batches_duplicate")
            return _response(start_response, "204 No Content")
        self.stats.add("batches_received")
        frames, malformed = ingest_body(self.store, body, self.clock())
        self.stats.add("frames_received", frames)
        self.stats.add("frames_malformed", malformed)
        expected = environ.get("HTTP_LOGPLEX_MSG_COUNT", "")
        if expected.isdigit() and int(expected) != frames + malformed:
            self.stats.add("batches_count_mismatch")
        return _response(start_response, "204 No Content")

    def _refusal(self, environ) -> tuple[str, str, bytes, list] | None:
        """Why a POST /logs is refused before its body is read: (reason, status, message,
        headers), or None when it may be read."""
        settings = self.settings
        if settings.auth_required and not self._authorised(environ):
            challenge = [("WWW-Authenticate", 'Basic realm="drain"')]
            return "auth", "401 Unauthorized", b"credentials required\n", challenge
        token = environ.get("HTTP_LOGPLEX_DRAIN_TOKEN", "")
        if settings.token is not None and not _equal(token, settings.token):
            return "token", "403 Forbidden", b"unknown drain token\n", []
        content_type = environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
        if content_type != LOGPLEX_CONTENT_TYPE:
            message = b"expected application/logplex-1\n"
            return "content_type", "415 Unsupported Media Type", message, []
        length = environ.get("CONTENT_LENGTH", "")
        if length and not length.isdigit():
            return "bad_length", "400 Bad Request", b"bad Content-Length\n", []
        if length and int(length) > settings.max_body_bytes:
            return "too_large", "413 Content Too Large", b"body too large\n", []
        return None

    def _metrics(self, environ, start_response):
        token = self.settings.metrics_token
        if token is not None and not _equal(
            environ.get("HTTP_AUTHORIZATION", ""), f"Bearer {token}"
        ):
            return _response(start_response, "401 Unauthorized", b"bearer token required\n")
        body = generate_latest(self.registry)
        start_response(
            "200 OK", [("Content-Type", CONTENT_TYPE_LATEST), ("Content-Length", str(len(body)))]
        )
        return [body]
