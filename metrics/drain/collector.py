"""Export the store as Prometheus metric families (a custom collector, see store.py for why).

Names follow ``heroku_<thing>_<unit>[_total]``; labels are only dyno, status, code, window,
addon, source, protocol and tls_version, each checked in labels.py.
"""

from collections.abc import Callable, Iterator

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.utils import floatToGoString

from metrics.drain.lines import PGBOUNCER, POSTGRES, REDIS
from metrics.drain.store import BUCKETS, MEMORY_KINDS, Histogram, Store

_BUCKET_BOUNDS = [floatToGoString(b) for b in BUCKETS] + ["+Inf"]


def _histogram(family: HistogramMetricFamily, dyno: str, histogram: Histogram) -> None:
    cumulative, buckets = 0, []
    for bound, count in zip(_BUCKET_BOUNDS, histogram.counts, strict=True):
        cumulative += count
        buckets.append((bound, cumulative))
    family.add_metric([dyno], buckets, histogram.total)


def collect_store(store: Store, now: float, pg_plan_max_connections: int | None) -> list[Metric]:
    """Snapshot the store into metric families, after forgetting what outlived its TTL."""
    with store.lock:
        store.expire(now)
        return _families(store, pg_plan_max_connections)


def _families(store: Store, pg_plan_max_connections: int | None) -> list[Metric]:
    requests = CounterMetricFamily(
        "heroku_router_requests",
        "Requests the Heroku router logged, by dyno, status and Heroku error code "
        '(code="" when the router logged none).',
        labels=["dyno", "status", "code"],
    )
    connect = HistogramMetricFamily(
        "heroku_router_connect_seconds",
        "Time the router took to connect to the dyno (router log `connect`).",
        labels=["dyno"],
    )
    service = HistogramMetricFamily(
        "heroku_router_service_seconds",
        "Time between the router sending the request to the dyno and the response "
        "(router log `service`).",
        labels=["dyno"],
    )
    memory = {
        kind: GaugeMetricFamily(
            f"heroku_dyno_memory_{kind}_bytes",
            f"Dyno memory `{kind}` from log-runtime-metrics.",
            labels=["dyno"],
        )
        for kind in MEMORY_KINDS
    }
    load = GaugeMetricFamily(
        "heroku_dyno_load_average",
        "Dyno load average from log-runtime-metrics, by window (1m, 5m, 15m).",
        labels=["dyno", "window"],
    )
    errors = CounterMetricFamily(
        "heroku_dyno_errors",
        "Runtime errors Heroku logged for the dyno (R14, R15...).",
        labels=["dyno", "code"],
    )
    app = {
        name: GaugeMetricFamily(
            f"heroku_app_{name}",
            f"The app's own `sample#{name}` log line, by dyno.",
            labels=["dyno"],
        )
        for name in sorted(store.app_sample_names)
    }
    for dyno, series in store.dynos.items():
        for (status, code), count in series.requests.items():
            requests.add_metric([dyno, status, code], count)
        if series.connect.count:
            _histogram(connect, dyno, series.connect)
        if series.service.count:
            _histogram(service, dyno, series.service)
        for kind, value in series.memory.items():
            memory[kind].add_metric([dyno], value)
        for window, value in series.load.items():
            load.add_metric([dyno, window], value)
        for code, count in series.errors.items():
            errors.add_metric([dyno, code], count)
        for name, value in series.app.items():
            app[name].add_metric([dyno], value)

    protocols = CounterMetricFamily(
        "heroku_router_protocol_requests",
        "Requests the Heroku router logged, whole app, by client protocol (http/https on the "
        "legacy router; http1.1, http2.0 on Router 2.0) and TLS version (Router 2.0's "
        'tls_version; "none" without TLS, "" on legacy lines).',
        labels=["protocol", "tls_version"],
    )
    for (protocol, tls), count in sorted(store.protocols.items()):
        protocols.add_metric([protocol, tls], count)

    postgres = _database_families("heroku_postgres", "Heroku Postgres", POSTGRES)
    pgbouncer = _database_families("heroku_pgbouncer", "Heroku's server-side PgBouncer", PGBOUNCER)
    redis = _database_families("heroku_redis", "Heroku Redis", REDIS)
    for (addon, source), series in store.databases.items():
        for name, value in series.postgres.items():
            postgres[name].add_metric([addon, source], value)
        for name, value in series.pgbouncer.items():
            pgbouncer[name].add_metric([addon, source], value)
        for name, value in series.redis.items():
            redis[name].add_metric([addon, source], value)

    families: list[Metric] = [requests, protocols, connect, service, *memory.values(), load]
    families += [errors, *app.values(), *postgres.values(), *pgbouncer.values()]
    families += redis.values()
    if pg_plan_max_connections is not None:
        families.append(
            GaugeMetricFamily(
                "heroku_postgres_plan_max_connections",
                "The database plan's connection limit, as configured on the receiver "
                "(DRAIN_PG_MAX_CONNECTIONS); used where logs give no sample#max-connections.",
                value=pg_plan_max_connections,
            )
        )
    families += _line_families(store)
    return families


def _database_families(prefix: str, what: str, names: dict[str, str]) -> dict[str, Metric]:
    return {
        name: GaugeMetricFamily(
            f"{prefix}_{name}",
            f"{what} `{sample}` from its metrics logs.",
            labels=["addon", "source"],
        )
        for sample, name in names.items()
    }


def _counter(name: str, help_text: str, label: str, values: dict[str, int]) -> Metric:
    family = CounterMetricFamily(name, help_text, labels=[label])
    for value, count in sorted(values.items()):
        family.add_metric([value], count)
    return family


def _line_families(store: Store) -> list[Metric]:
    dynos = GaugeMetricFamily(
        "heroku_drain_dynos", "Dynos the receiver holds series for.", value=len(store.dynos)
    )
    return [
        dynos,
        _counter(
            "heroku_logplex_messages_dropped",
            "Log messages Logplex reported dropping before they reached this drain "
            "(Error L10 output buffer overflow, L11-L13), by code.",
            "code",
            store.logplex_dropped,
        ),
        _counter(
            "heroku_drain_lines_parsed", "Log lines read, by kind.", "kind", store.lines_parsed
        ),
        _counter(
            "heroku_drain_lines_unparsed",
            'Log lines skipped, by kind ("other": not a kind the receiver reads).',
            "kind",
            store.lines_unparsed,
        ),
        _counter(
            "heroku_drain_lines_dropped",
            "Log lines dropped because a bound on series was reached, by reason.",
            "reason",
            store.lines_dropped,
        ),
    ]


class DrainCollector:
    """prometheus_client collector over the store and, in the live receiver, its own stats."""

    def __init__(
        self,
        store: Store,
        clock: Callable[[], float],
        pg_plan_max_connections: int | None,
        extra: Callable[[], list[Metric]] | None = None,
    ):
        self._store = store
        self._clock = clock
        self._pg_plan_max_connections = pg_plan_max_connections
        self._extra = extra

    def describe(self) -> list[Metric]:
        # Nothing to describe up front: the families depend on what the logs said.
        return []

    def collect(self) -> Iterator[Metric]:
        yield from collect_store(self._store, self._clock(), self._pg_plan_max_connections)
        if self._extra is not None:
            yield from self._extra()
