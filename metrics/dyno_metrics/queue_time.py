"""Router queue time: from Heroku's X-Request-Start stamp to the app picking the request up.

Heroku's router stamps milliseconds since the epoch; nginx sends ``t=<seconds.millis>``;
some proxies ``t=<microseconds>``. The unit is told by magnitude. A stamp that does not
parse, or lies in the future, is counted by reason and otherwise ignored.
"""

from prometheus_client import Counter, Histogram

# Queueing shows first as tens of milliseconds and becomes seconds at peak concurrency;
# the router gives up at 30 s (H12).
QUEUE_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
# Clocks of router and dyno drift a little; beyond this a stamp is called "future".
FUTURE_TOLERANCE_SECONDS = 1.0

REQUEST_QUEUE_SECONDS = Histogram(
    "http_request_queue_seconds",
    "Time from the router's X-Request-Start stamp to the app picking the request up.",
    buckets=QUEUE_BUCKETS,
)
INVALID_STAMPS = Counter(
    "http_request_queue_stamps_invalid",
    "X-Request-Start stamps ignored, by reason (malformed, future).",
    ["reason"],
)
for _reason in ("malformed", "future"):
    INVALID_STAMPS.labels(_reason)


def parse_request_start(value: str) -> float | None:
    """Seconds since the epoch from an X-Request-Start value, or None when malformed."""
    text = value.strip()
    if text.startswith("t="):
        text = text[2:]
    try:
        number = float(text)
    except ValueError:
        return None
    if number != number or number <= 0:  # NaN or non-positive
        return None
    if number > 1e14:  # microseconds
        return number / 1e6
    if number > 1e11:  # milliseconds (Heroku)
        return number / 1e3
    return number  # seconds, as nginx's t=${msec}


def observe(header: str, now: float) -> None:
    started = parse_request_start(header)
    if started is None:
        INVALID_STAMPS.labels("malformed").inc()
    elif started > now + FUTURE_TOLERANCE_SECONDS:
        INVALID_STAMPS.labels("future").inc()
    else:
        REQUEST_QUEUE_SECONDS.observe(max(0.0, now - started))
