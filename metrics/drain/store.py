"""What the receiver has read so far, kept per dyno and per database, and forgotten after a TTL.

prometheus_client's labelled metrics never forget a label set, so a receiver that runs for
days behind an app whose dynos restart (new names for one-off and scaled dynos) would grow
without bound. This store keeps its own dictionaries, stamps each dyno and database with the
time it was last heard from, and drops the ones silent for longer than ``ttl_seconds``; the
collector in collector.py exports whatever is left. Callers pass ``now`` (a monotonic clock in
the live receiver, the log's own time in a post-mortem) and hold ``lock`` around updates.
"""

import threading
from bisect import bisect_left
from dataclasses import dataclass, field

# Router connect and service times, in seconds. The router logs whole milliseconds and gives
# a request 30 s before H12, so buckets span 1 ms to 30 s.
BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

MEMORY_KINDS = ("total", "rss", "cache", "swap", "quota")
LOAD_WINDOWS = ("1m", "5m", "15m")


class Histogram:
    """Bucket counts (not cumulative), sum and count, as the router's times arrive."""

    __slots__ = ("counts", "total", "count")

    def __init__(self):
        self.counts = [0] * (len(BUCKETS) + 1)
        self.total = 0.0
        self.count = 0

    def observe(self, seconds: float) -> None:
        self.counts[bisect_left(BUCKETS, seconds)] += 1
        self.total += seconds
        self.count += 1


class DynoSeries:
    """Everything read about one dyno."""

    __slots__ = ("last_seen", "requests", "connect", "service", "memory", "load", "errors", "app")

    def __init__(self, now: float):
        self.last_seen = now
        self.requests: dict[tuple[str, str], int] = {}  # (status, code) -> requests
        self.connect = Histogram()
        self.service = Histogram()
        self.memory: dict[str, float] = {}  # kind -> bytes
        self.load: dict[str, float] = {}  # window -> load average
        self.errors: dict[str, int] = {}  # R14, R15... -> count
        self.app: dict[str, float] = {}  # the app's own sample name -> value


class DatabaseSeries:
    """The last samples of one Heroku Postgres database, its pooler or a Heroku Redis."""

    __slots__ = ("last_seen", "postgres", "pgbouncer", "redis")

    def __init__(self, now: float):
        self.last_seen = now
        self.postgres: dict[str, float] = {}
        self.pgbouncer: dict[str, float] = {}
        self.redis: dict[str, float] = {}


@dataclass
class Limits:
    """How much the store may hold: the bounds that keep memory flat over days."""

    ttl_seconds: float = 900.0
    max_dynos: int = 500
    max_databases: int = 20
    max_app_samples: int = 32


@dataclass
class Store:
    limits: Limits = field(default_factory=Limits)
    lock: threading.Lock = field(default_factory=threading.Lock)
    dynos: dict[str, DynoSeries] = field(default_factory=dict)
    databases: dict[tuple[str, str], DatabaseSeries] = field(default_factory=dict)
    # The app's sample names seen so far; bounded, as each becomes a metric name.
    app_sample_names: set[str] = field(default_factory=set)
    lines_parsed: dict[str, int] = field(default_factory=dict)  # kind -> lines
    lines_unparsed: dict[str, int] = field(default_factory=dict)  # kind -> lines
    lines_dropped: dict[str, int] = field(default_factory=dict)  # reason -> lines
    # Router requests of the whole app by (protocol, tls_version): both from fixed sets
    # (labels.py), so this never grows past a few dozen entries and needs no TTL.
    protocols: dict[tuple[str, str], int] = field(default_factory=dict)
    # Messages Logplex says it dropped before they reached the drain, by code (L10...).
    logplex_dropped: dict[str, int] = field(default_factory=dict)
    _last_expiry: float | None = None

    # -- bookkeeping -------------------------------------------------------------------------

    def parsed(self, kind: str) -> None:
        self.lines_parsed[kind] = self.lines_parsed.get(kind, 0) + 1

    def unparsed(self, kind: str) -> None:
        self.lines_unparsed[kind] = self.lines_unparsed.get(kind, 0) + 1

    def _dropped(self, reason: str) -> None:
        self.lines_dropped[reason] = self.lines_dropped.get(reason, 0) + 1

    def dyno(self, name: str, now: float) -> DynoSeries | None:
        """The dyno's series, created on first sight unless the dyno limit is reached."""
        series = self.dynos.get(name)
        if series is None:
            self.expire(now, force=False)
            if len(self.dynos) >= self.limits.max_dynos:
                self._dropped("dyno_limit")
                return None
            series = self.dynos[name] = DynoSeries(now)
        else:
            series.last_seen = now
        return series

    def database(self, key: tuple[str, str], now: float) -> DatabaseSeries | None:
        series = self.databases.get(key)
        if series is None:
            self.expire(now, force=False)
            if len(self.databases) >= self.limits.max_databases:
                self._dropped("database_limit")
                return None
            series = self.databases[key] = DatabaseSeries(now)
        else:
            series.last_seen = now
        return series

    def expire(self, now: float, force: bool = True) -> None:
        """Forget dynos and databases silent for longer than the TTL. Without ``force`` it
        runs at most ten times per TTL, so a stream of new names costs little."""
        ttl = self.limits.ttl_seconds
        if not force and self._last_expiry is not None and now - self._last_expiry < ttl / 10:
            return
        self._last_expiry = now
        cutoff = now - ttl
        for name in [n for n, s in self.dynos.items() if s.last_seen < cutoff]:
            del self.dynos[name]
        for key in [k for k, s in self.databases.items() if s.last_seen < cutoff]:
            del self.databases[key]

    # -- updates, one per kind of line ------------------------------------------------------

    def router(self, dyno, status, code, connect_s, service_s, protocol_tls, now) -> bool:
        series = self.dyno(dyno, now)
        if series is None:
            return False
        self.protocols[protocol_tls] = self.protocols.get(protocol_tls, 0) + 1
        key = (status, code)
        series.requests[key] = series.requests.get(key, 0) + 1
        if connect_s is not None:
            series.connect.observe(connect_s)
        if service_s is not None:
            series.service.observe(service_s)
        return True

    def dyno_gauges(self, dyno, attribute: str, values: dict[str, float], now) -> bool:
        """Runtime memory or load samples: replace the dyno's last values."""
        series = self.dyno(dyno, now)
        if series is None:
            return False
        getattr(series, attribute).update(values)
        return True

    def logplex_lost(self, code: str, messages: int) -> None:
        self.logplex_dropped[code] = self.logplex_dropped.get(code, 0) + messages

    def dyno_error(self, dyno, code, now) -> bool:
        series = self.dyno(dyno, now)
        if series is None:
            return False
        series.errors[code] = series.errors.get(code, 0) + 1
        return True

    def app_samples(self, dyno, values: dict[str, float], now) -> bool:
        names = self.app_sample_names
        accepted = {}
        for name, value in values.items():
            if name not in names:
                if len(names) >= self.limits.max_app_samples:
                    self._dropped("app_sample_limit")
                    continue
                names.add(name)
            accepted[name] = value
        return self.dyno_gauges(dyno, "app", accepted, now)

    def database_gauges(self, key, attribute: str, values: dict[str, float], now) -> bool:
        series = self.database(key, now)
        if series is None:
            return False
        getattr(series, attribute).update(values)
        return True
