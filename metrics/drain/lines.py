"""Recognise each kind of Heroku log line and hand its figures to the store.

Formats (Heroku Dev Center: "HTTP Routing", "Heroku Error Codes", "log-runtime-metrics",
"Heroku Postgres Metrics Logs"; the app's own line is defined in README.md):

- router, legacy (``protocol=http|https``) and Router 2.0 (``protocol=http1.1|http2.0
  tls=true|false tls_version=tls1.2|tls1.3|unknown``)::
    heroku[router]: at=info method=GET path="/" host=... request_id=... fwd="..." dyno=web.1
        connect=0ms service=12ms status=200 bytes=150 protocol=http2.0 tls=true tls_version=tls1.3
    heroku[router]: sock=backend at=error code=H18 desc="Server Request Interrupted" ...
  The error code is read only where Heroku writes it, the field right after ``at=`` at the
  head of the line (``at=error code=H12``; ``at=info code=H80`` for maintenance mode and the
  other informational codes). A ``code=`` later in the line is inside a path, a header or
  the client's address, which the client controls, and is never read as a code.
- runtime metrics, every ~20 s per dyno::
    heroku[web.1]: source=web.1 dyno=heroku.123.abc sample#memory_total=90.07MB
        sample#memory_rss=88.57MB sample#memory_cache=0.00MB sample#memory_swap=1.50MB ...
        sample#memory_quota=512.00MB
    heroku[web.1]: source=web.1 dyno=heroku.123.abc sample#load_avg_1m=0.46 ...
- runtime errors: ``heroku[web.1]: Error R14 (Memory quota exceeded)``
- Logplex's own losses, the L10 to L13 lines (heroku/logplex, Dev Center "Error Codes")::
    heroku[logplex]: Error L10 (output buffer overflow): 2 messages dropped since 2017-...
    heroku[logplex]: Error L10 (output buffer overflow): drain 'd.cfcd...' dropped 1 messages
- Heroku Postgres and its server-side pooler::
    app[heroku-postgres]: source=DATABASE addon=postgresql-curved-12345
        sample#active-connections=4 sample#waiting-connections=0 sample#db_size=18032824bytes ...
    app[heroku-pgbouncer]: source=pgbouncer addon=postgresql-curved-12345
        sample#client_active=56 sample#client_waiting=0 sample#server_active=0 ...
- Heroku Redis (``max-connections`` only on newer lines)::
    app[heroku-redis]: source=REDIS addon=redis-rugged-24473 sample#active-connections=4
        sample#max-connections=18 ... sample#memory-redis=5116080bytes sample#hit-rate=0.0013079
        sample#evicted-keys=0
- the app's per-dyno gauges: ``app[web.1]: source=web.1 sample#waitress_queue_depth=0 ...``
"""

import re

from metrics.drain import labels
from metrics.drain.store import Store

# key=value pairs; a value is either "quoted" (desc, path, fwd) or runs to the next space.
_PAIR = re.compile(r'([\w#.-]+)=("[^"]*"|\S*)')
# A sample's value: a number, then an optional unit (MB, kB, bytes, pages).
_QUANTITY = re.compile(r"([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)([A-Za-z]*)\Z")
_ERROR = re.compile(r"Error ([HRL][0-9]{2}) ")
# "Error L10 (...): 2 messages dropped since ...", or "...: drain 'd.x' dropped 1 messages".
_LOGPLEX_LOSS = re.compile(
    r"Error (L1[0-9])\b.*?(?:\b([0-9]+) messages (?:dropped|lost)|\bdropped ([0-9]+) messages)"
)

# Heroku's MB in runtime metrics and memory quotas are binary (512 MB dyno = 512 MiB).
_UNIT_BYTES = {"": 1.0, "bytes": 1.0, "kB": 1024.0, "MB": 1048576.0, "GB": 1073741824.0}

_MEMORY = {f"sample#memory_{kind}": kind for kind in ("total", "rss", "cache", "swap", "quota")}
_LOAD = {f"sample#load_avg_{window}": window for window in ("1m", "5m", "15m")}
POSTGRES = {
    "sample#active-connections": "active_connections",
    "sample#waiting-connections": "waiting_connections",
    "sample#max-connections": "max_connections",
    "sample#table-cache-hit-rate": "table_cache_hit_ratio",
    "sample#index-cache-hit-rate": "index_cache_hit_ratio",
    "sample#db_size": "db_size_bytes",
}
REDIS = {
    "sample#active-connections": "active_connections",
    "sample#max-connections": "max_connections",
    "sample#hit-rate": "hit_ratio",
    "sample#evicted-keys": "evicted_keys",
    "sample#memory-redis": "memory_bytes",
}
PGBOUNCER = {
    "sample#client_active": "client_active_connections",
    "sample#client_waiting": "client_waiting_connections",
    "sample#server_active": "server_active_connections",
    "sample#server_idle": "server_idle_connections",
}


def ingest(store: Store, source: str, process: str, message: str, now: float) -> None:
    """Read one record into ``store``; count it as parsed or unparsed by kind."""
    if source == "heroku":
        if process == "router":
            _count(store, "router", _router(store, message, now))
            return
        if "sample#memory_" in message:
            _count(store, "runtime_memory", _runtime(store, message, _MEMORY, "memory", now))
            return
        if "sample#load_avg_" in message:
            _count(store, "runtime_load", _runtime(store, message, _LOAD, "load", now))
            return
        if process == "logplex":
            _count(store, "logplex", _logplex_loss(store, message))
            return
        if message.startswith("Error "):
            _count(store, "dyno_error", _dyno_error(store, process, message, now))
            return
    elif source == "app":
        if process == "heroku-postgres":
            _count(store, "postgres", _database(store, message, POSTGRES, "postgres", now))
            return
        if process == "heroku-pgbouncer":
            _count(store, "pgbouncer", _database(store, message, PGBOUNCER, "pgbouncer", now))
            return
        if process == "heroku-redis":
            _count(store, "redis", _database(store, message, REDIS, "redis", now))
            return
        if message.startswith("source=") and "sample#" in message:
            _count(store, "app", _app_samples(store, message, now))
            return
    store.unparsed("other")


def _count(store: Store, kind: str, ok: bool) -> None:
    if ok:
        store.parsed(kind)
    else:
        store.unparsed(kind)


def _pairs(message: str) -> dict[str, str]:
    return {key: value.strip('"') for key, value in _PAIR.findall(message)}


def _milliseconds(value: str | None) -> float | None:
    """Router times: ``12ms`` as seconds; empty (``connect=`` on H10 lines) as None."""
    if value and value.endswith("ms") and value[:-2].isdigit():
        return int(value[:-2]) / 1000.0
    return None


def _header_code(message: str) -> str:
    """The code Heroku wrote at the head of a router line: ``[sock=...] at=<level>
    code=<code>``; "" when the field after ``at=`` is not a code."""
    tokens = message.split(" ", 3)
    at = 1 if tokens[0].startswith("sock=") else 0
    if len(tokens) > at + 1 and tokens[at].startswith("at="):
        following = tokens[at + 1]
        if following.startswith("code="):
            return following[len("code=") :]
    return ""


def _router(store: Store, message: str, now: float) -> bool:
    # Later fields win: the router writes dyno, times, status and protocol after the path
    # and the client's headers, so a forged copy inside them is overwritten.
    fields = _pairs(message)
    status = labels.status(fields.get("status", ""))
    if status is None:
        return False
    raw_code = _header_code(message)
    code = labels.code(raw_code) if raw_code else ""
    raw_dyno = fields.get("dyno", "")
    dyno = labels.dyno(raw_dyno) if raw_dyno else ""  # H10/H11/H14 name no dyno
    if code is None or dyno is None:
        return False
    connect = _milliseconds(fields.get("connect"))
    service = _milliseconds(fields.get("service"))
    protocol = labels.protocol(fields.get("protocol", ""))
    tls = labels.tls_version(fields.get("tls", ""), fields.get("tls_version", ""))
    return store.router(dyno, status, code, connect, service, (protocol, tls), now)


def _quantity(value: str) -> float | None:
    """``88.57MB`` as bytes, ``0.99`` as itself; None for anything else (pages, junk)."""
    match = _QUANTITY.match(value)
    if match is None or match.group(2) not in _UNIT_BYTES:
        return None
    return float(match.group(1)) * _UNIT_BYTES[match.group(2)]


def _samples(fields: dict[str, str], wanted: dict[str, str]) -> dict[str, float]:
    values = {}
    for key, name in wanted.items():
        raw = fields.get(key)
        if raw is not None:
            value = _quantity(raw)
            if value is not None:
                values[name] = value
    return values


def _runtime(store: Store, message: str, wanted: dict[str, str], attribute: str, now) -> bool:
    fields = _pairs(message)
    dyno = labels.dyno(fields.get("source", ""))
    values = _samples(fields, wanted)
    if dyno is None or not values:
        return False
    return store.dyno_gauges(dyno, attribute, values, now)


def _dyno_error(store: Store, process: str, message: str, now: float) -> bool:
    match = _ERROR.match(message)
    dyno = labels.dyno(process)
    if match is None or dyno is None:
        return False
    return store.dyno_error(dyno, match.group(1), now)


def _logplex_loss(store: Store, message: str) -> bool:
    match = _LOGPLEX_LOSS.match(message)
    if match is None:
        return False
    store.logplex_lost(match.group(1), int(match.group(2) or match.group(3)))
    return True


def _database(store: Store, message: str, wanted: dict[str, str], attribute: str, now) -> bool:
    fields = _pairs(message)
    source = labels.addon(fields.get("source", ""))
    addon_value = fields.get("addon", "")
    addon = labels.addon(addon_value) if addon_value else ""  # older lines carry no addon
    values = _samples(fields, wanted)
    if source is None or addon is None or not values:
        return False
    return store.database_gauges((addon, source), attribute, values, now)


def _app_samples(store: Store, message: str, now: float) -> bool:
    """The app's line: ``source=<dyno>`` then only ``sample#<name>=<number>`` pairs."""
    tokens = message.split()
    dyno = labels.dyno(tokens[0][len("source=") :])
    if dyno is None:
        return False
    values = {}
    for token in tokens[1:]:
        key, _, raw = token.partition("=")
        name = labels.sample_name(key[len("sample#") :]) if key.startswith("sample#") else None
        try:
            value = float(raw)
        except ValueError:
            return False
        if name is None or value != value:  # NaN is not a reading
            return False
        values[name] = value
    return bool(values) and store.app_samples(dyno, values, now)
