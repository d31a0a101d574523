"""On Heroku, log the key per-dyno gauges as l2met ``sample#`` lines every few seconds.

Scraping /metrics through Heroku's router reaches a random dyno; the log drain sees every
dyno's lines, labelled by its ``source``. The drain receiver (metrics/drain) turns these
into ``heroku_app_<name>{dyno}`` series. One line per dyno and interval, from whichever
process sees the whole dyno: Waitress's (``waitress.l2met_samples``), or gunicorn's arbiter,
summing its live workers (``gunicorn_arbiter.samples``):

    source=web.1 sample#waitress_queue_depth=0 sample#waitress_threads_busy=3
        sample#waitress_threads=8 sample#waitress_connections=5 sample#django_db_connections_open=4
    source=web.1 sample#gunicorn_workers=3 sample#gunicorn_requests_active=2
        sample#gunicorn_requests_limit=3 sample#django_db_connections_open=3
        sample#listen_queue_depth=0

(one line each; wrapped here).
"""

import os
import sys
import threading
from collections.abc import Callable

INTERVAL_ENV = "METRICS_LOG_INTERVAL"
DEFAULT_INTERVAL_SECONDS = 5.0
# Below this the lines would flood the log drain (Logplex drops what it cannot forward).
MINIMUM_INTERVAL_SECONDS = 0.1


def interval_from_environment() -> float:
    """Seconds between two lines: ``METRICS_LOG_INTERVAL``, else 5; ValueError naming the
    variable when it is not a number of seconds from 0.1 up."""
    raw = os.environ.get(INTERVAL_ENV, "").strip()
    if not raw:
        return DEFAULT_INTERVAL_SECONDS
    try:
        seconds = float(raw)
    except ValueError:
        seconds = None
    if seconds is None or not MINIMUM_INTERVAL_SECONDS <= seconds < float("inf"):
        raise ValueError(
            f"{INTERVAL_ENV} must be a number of seconds, at least {MINIMUM_INTERVAL_SECONDS}, "
            f"got {raw!r}"
        )
    return seconds


_ON = {"1", "true", "yes", "on"}
_OFF = {"0", "false", "no", "off", ""}


def settings_from_environment() -> tuple[str, float] | None:
    """(dyno, seconds between lines) for a server that has no Django settings loaded (gunicorn's
    arbiter), or None when no line is wanted: ``DYNO`` unset (not on Heroku) or
    ``METRICS_ENABLED`` off (the words the kit's settings take). ValueError naming the
    variable that is malformed."""
    raw = os.environ.get("METRICS_ENABLED", "on")
    enabled = raw.strip().lower()
    if enabled not in _ON | _OFF:
        raise ValueError(f"METRICS_ENABLED must be one of on/off, true/false, 1/0, got {raw!r}")
    interval = interval_from_environment()
    dyno = os.environ.get("DYNO", "")
    if not dyno or enabled in _OFF:
        return None
    return dyno, interval


def _number(value: float) -> str:
    """Whole numbers without a fraction (gauges summed from files come back as floats)."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def line(dyno: str, samples: dict[str, float]) -> str:
    return f"source={dyno} " + " ".join(f"sample#{k}={_number(v)}" for k, v in samples.items())


# Held while a line is read and written, and taken around every fork of this process, so a
# child (a gunicorn worker forked by the arbiter this thread runs in) never inherits a lock
# that the reporting thread held at that instant (stdout's buffer, say) and waits on it forever.
_writing = threading.Lock()
_guarding_forks = False


def _guard_forks() -> None:
    global _guarding_forks
    if not _guarding_forks and hasattr(os, "register_at_fork"):
        os.register_at_fork(
            before=_writing.acquire,
            after_in_parent=_writing.release,
            after_in_child=_writing.release,
        )
        _guarding_forks = True


def start(
    dyno: str,
    samples: Callable[[], dict[str, float]],
    stop: threading.Event,
    interval: float = DEFAULT_INTERVAL_SECONDS,
    stream=sys.stdout,
) -> threading.Thread:
    """Every `interval` seconds until `stop` is set, print the line of `samples()`. A read
    that fails costs its line only (one line on stderr says why), not the lines after it."""
    _guard_forks()

    def report():
        while not stop.wait(interval):
            with _writing:
                try:
                    text = line(dyno, samples())
                except Exception as error:  # noqa: BLE001 - said on stderr; the next line may do
                    print(f"l2met: no line this time: {error!r}", file=sys.stderr, flush=True)
                    continue
                print(text, file=stream, flush=True)

    thread = threading.Thread(target=report, name="l2met", daemon=True)
    thread.start()
    return thread
