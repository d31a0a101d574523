"""What every panel shows: the one source the Grafana generator and the HTML report both read.

A panel is a title, a kind (stat, timeseries, table), its PromQL queries with legends, a unit,
what a healthy and a failing load test look like on it, and the runbooks of the alerts it
explains. Expressions use Grafana's variables ($scenario, $dyno, $__rate_interval, $__range,
$__range_s); `expand` turns them into plain PromQL for code that queries Prometheus itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, NamedTuple

from dashboards import defaults
from dashboards.defaults import ALL_VALUE, KIT_APP_JOBS
from metrics.alerting.recording import USER_VIEWS
from metrics.alerting.rules import runbook_url

# What a query needs beyond the app and the Locust exporter being scraped. A query with no
# needs returns data after any real load run; the others are listed so a test can tell.
RULES = "recording_rules"  # the repo's recording rules loaded into Prometheus (metrics/rules)
FAILURES = "failures"  # series exist only once something failed (an error kind, a firing alert)
ROUTER = "router"  # observations only when a router stamps X-Request-Start
DRAIN = "drain"  # a log-drain receiver fed by a Heroku app, scraped (metrics/drain)
CACHE = "cache"  # the app runs with REDIS_URL: the page cache's series exist
POOLER = "pooler"  # a PgBouncer's pools exporter is scraped as job pgbouncer (test 4b)
WAITRESS = "waitress"  # the app is served by Waitress (python -m app.serve): waitress_* exist
GUNICORN = "gunicorn"  # served by gunicorn with -c python:dyno_metrics.gunicorn: gunicorn_*
# Router 2.0 lines of requests that came over TLS (tls_version=): a deployed app's drain; the
# local router stand-in serves plain HTTP on loopback.
TLS = "tls"

Kind = Literal["stat", "timeseries", "table"]


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str
    needs: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Panel:
    title: str
    kind: Kind
    what: str
    healthy: str
    failing: str
    queries: tuple[Query, ...]
    unit: str
    runbooks: tuple[str, ...] = ()

    @property
    def description(self) -> str:
        """Markdown shown under the panel's (i) in Grafana and under the chart in the report."""
        text = f"{self.what}\n\n**Healthy:** {self.healthy}\n\n**Failing:** {self.failing}"
        if self.runbooks:
            links = ", ".join(f"[{name}]({runbook_url(name)})" for name in self.runbooks)
            text += f"\n\n**Runbook:** {links}"
        return text


@dataclass(frozen=True)
class Variable:
    name: str
    label: str
    query: str
    # "All" as a regex that also matches an absent label; None: Grafana's own, the listed values.
    all_value: str | None = ALL_VALUE


@dataclass(frozen=True)
class Row:
    title: str
    panels: tuple[Panel, ...]


@dataclass(frozen=True)
class Dashboard:
    uid: str
    title: str
    description: str
    variables: tuple[Variable, ...]
    rows: tuple[Row, ...]

    @property
    def panels(self) -> tuple[Panel, ...]:
        return tuple(panel for row in self.rows for panel in row.panels)


class PanelQuery(NamedTuple):
    """One query of one panel, in plain PromQL, for code that evaluates it against Prometheus."""

    dashboard: str
    panel: str
    expr: str
    legend: str
    needs: frozenset[str]
    instant: bool


LOCUST = 'scenario=~"$scenario"'
APP = 'dyno=~"$dyno"'
# The app's own processes, as scraped: which jobs those are is the dashboard's choice (the
# `job` variable, from the jobs that export app_info), never a name written here, since a
# deployed app is scraped under a job of the user's naming.
APP_TARGET = f'job=~"$job", {APP}'
WINDOW = "[$__rate_interval]"
RANGE = "[$__range]"
RESPONSES = "django_http_responses_total_by_status_view_method_total"


def _locust_increase(metric: str) -> str:
    return f"sum(increase({metric}{{{LOCUST}}}{RANGE}))"


def _locust_rate(metric: str) -> str:
    return f"sum by (scenario) (rate({metric}{{{LOCUST}}}{WINDOW}))"


def _quantile(q: float, histogram: str, by: str, selector: str) -> str:
    return (
        f"histogram_quantile({q}, sum by ({by}) (rate({histogram}_bucket{{{selector}}}{WINDOW})))"
    )


def _rate(metric: str, by: str, selector: str) -> str:
    return f"sum by ({by}) (rate({metric}{{{selector}}}{WINDOW}))"


def _app_quantile(q: float, histogram: str, by: str) -> str:
    """A quantile over the series of the dynos chosen (the Heroku dashboard's, from the drain)."""
    return _quantile(q, histogram, by, APP)


def _app_rate(metric: str, by: str) -> str:
    return _rate(metric, by, APP)


def _target_quantile(q: float, histogram: str, by: str) -> str:
    """A quantile over the app processes' own series, of the jobs and dynos chosen."""
    return _quantile(q, histogram, by, APP_TARGET)


def _target_rate(metric: str, by: str) -> str:
    return _rate(metric, by, APP_TARGET)


SEED_SUMMARY = (
    "Read left to right it is the seed's summary line: "
    "5000 users · 20k req/min · 0% errors · avg 178 ms (test 5)."
)

SUMMARY_PANELS = (
    Panel(
        title="Users",
        kind="stat",
        what="Most simulated users connected at once over the range. " + SEED_SUMMARY,
        healthy="the scenario's user count (5000 for test 5 at full scale).",
        failing="fewer than planned: the ramp-up did not finish or the generator stalled.",
        queries=(Query(f"max(max_over_time(locust_users{{{LOCUST}}}{RANGE}))", "users"),),
        unit="short",
    ),
    Panel(
        title="Requests per minute",
        kind="stat",
        what="Requests Locust completed per minute, averaged over the range.",
        healthy="steady near the seed's figure (about 20k req/min for test 5).",
        failing="far below it while users are high (test 4: 1.8k req/min): the server "
        "answers slowly or refuses.",
        queries=(
            Query(
                f"{_locust_increase('locust_requests_total')} / ($__range_s / 60)",
                "req/min",
            ),
        ),
        unit="reqpm",
    ),
    Panel(
        title="Total requests",
        kind="stat",
        what="Requests Locust completed over the range, failures included.",
        healthy="about the seed's total (100k for test 5's 5 minutes).",
        failing="far fewer: requests waited or timed out.",
        queries=(Query(_locust_increase("locust_requests_total"), "requests"),),
        unit="short",
    ),
    Panel(
        title="Error rate",
        kind="stat",
        what="Share of requests that failed over the range.",
        healthy="0%, as in the seed's tests 2, 5 and 7.",
        failing="100% of 400s in test 1 (no page set up), about 90% in test 4 (too many "
        "database connections).",
        queries=(
            Query(
                f"({_locust_increase('locust_failures_total')} or vector(0)) "
                f"/ {_locust_increase('locust_requests_total')}",
                "errors",
            ),
        ),
        unit="percentunit",
        runbooks=("HighErrorRate", "BadRequestSurge"),
    ),
    Panel(
        title="Average response time",
        kind="stat",
        what="Mean response time seen by the simulated users over the range.",
        healthy="tens to a few hundred ms (seed: 47 ms in test 2, 178 ms in test 5).",
        failing="seconds (seed: 14 s in test 3, 9 s in test 6): requests queue.",
        queries=(
            Query(
                f"{_locust_increase('locust_request_duration_seconds_sum')} "
                f"/ {_locust_increase('locust_request_duration_seconds_count')}",
                "avg",
            ),
        ),
        unit="s",
        runbooks=("HighLatency",),
    ),
    Panel(
        title="p95 response time",
        kind="stat",
        what="95th percentile of response time over the range, from Locust's histogram.",
        healthy="within a few times the average.",
        failing="at the histogram's top buckets (tens of seconds): the router's 30 s limit.",
        queries=(
            Query(
                "histogram_quantile(0.95, sum by (le) "
                f"(increase(locust_request_duration_seconds_bucket{{{LOCUST}}}{RANGE})))",
                "p95",
            ),
        ),
        unit="s",
        runbooks=("HighLatency",),
    ),
    Panel(
        title="Max response time",
        kind="stat",
        what="Slowest response over the range.",
        healthy="under a second (seed: about 150 ms in test 2).",
        failing="many seconds (seed: about 4 s in test 1).",
        queries=(
            Query(
                f"max(max_over_time(locust_request_duration_max_seconds{{{LOCUST}}}{RANGE}))",
                "max",
            ),
        ),
        unit="s",
    ),
)


OVER_TIME_PANELS = (
    Panel(
        title="Users over time",
        kind="timeseries",
        what="Simulated users connected, per scenario; the shaded region marks the run.",
        healthy="a ramp to the planned count, a flat top, a drop at the end.",
        failing="a ramp that stops short or a saw-tooth: the generator cannot keep up.",
        queries=(Query(f"locust_users{{{LOCUST}}}", "{{scenario}} users"),),
        unit="short",
    ),
    Panel(
        title="Requests per minute over time",
        kind="timeseries",
        what="Requests per minute completed, over Grafana's $__rate_interval (four scrape "
        "intervals at least), so a steady load draws a flat line from the end of the ramp.",
        healthy="rises with the users and holds flat.",
        failing="flat or falling while users rise: the server is saturated.",
        queries=(Query(f"60 * {_locust_rate('locust_requests_total')}", "{{scenario}} req/min"),),
        unit="reqpm",
    ),
    Panel(
        title="Error rate and error kinds",
        kind="timeseries",
        what="Share of requests failing, and the share of each failure kind "
        "(http_400, http_500, http_503, timeout, connection, ...).",
        healthy="a flat 0%.",
        failing="http_400 near 100% (test 1: unknown Host), http_500 rising with "
        "connection errors (test 4), http_503 or timeout when the router gives up.",
        queries=(
            Query(
                f"scenario:locust_failures:ratio_rate1m{{{LOCUST}}}",
                "{{scenario}} all errors",
                frozenset({RULES}),
            ),
            Query(
                f"sum by (kind) (rate(locust_failures_total{{{LOCUST}}}{WINDOW})) "
                f"/ scalar(sum(rate(locust_requests_total{{{LOCUST}}}{WINDOW})))",
                "{{kind}}",
                frozenset({FAILURES}),
            ),
        ),
        unit="percentunit",
        runbooks=("HighErrorRate", "BadRequestSurge"),
    ),
    Panel(
        title="Response time: average, p95, max",
        kind="timeseries",
        what="Response time seen by the users: mean, 95th percentile and the maximum of the "
        "last 10 s.",
        healthy="flat lines, p95 a few times the average.",
        failing="all three climbing together for the whole run: requests queue.",
        queries=(
            Query(
                f"{_locust_rate('locust_request_duration_seconds_sum')} "
                f"/ {_locust_rate('locust_request_duration_seconds_count')}",
                "{{scenario}} avg",
            ),
            Query(
                "histogram_quantile(0.95, sum by (scenario, le) "
                f"(rate(locust_request_duration_seconds_bucket{{{LOCUST}}}{WINDOW})))",
                "{{scenario}} p95",
            ),
            Query(f"locust_request_duration_max_seconds{{{LOCUST}}}", "{{scenario}} max"),
        ),
        unit="s",
        runbooks=("HighLatency",),
    ),
    Panel(
        title="Load generator CPU",
        kind="timeseries",
        what="CPU share of the busiest Locust process.",
        healthy="below 90%: the figures measure the server.",
        failing="above 90%: the generator is the bottleneck and understates the server.",
        queries=(Query(f"locust_cpu_usage_ratio{{{LOCUST}}}", "{{scenario}} CPU"),),
        unit="percentunit",
        runbooks=("LoadGeneratorSaturated",),
    ),
)


def _by_path(metric: str) -> str:
    return f"sum by (path) (rate({metric}{{{LOCUST}}}{WINDOW}))"


# One line per path the run declared (`--path`, `--scenario-file`; the seed's `/` by default):
# the exporter's `path` label holds only those, so these panels stay as small as that list.
BY_PATH_PANELS = (
    Panel(
        title="Requests per minute by path",
        kind="timeseries",
        what="Requests per minute completed for each path the run declared, in the "
        "proportion of their weights.",
        healthy="each path at its weight's share of the total, flat after the ramp.",
        failing="a path falling behind its share: its answers are slower than the others'.",
        queries=(Query(f"60 * {_by_path('locust_requests_total')}", "{{path}}"),),
        unit="reqpm",
    ),
    Panel(
        title="Error rate by path",
        kind="timeseries",
        what="Share of each path's requests that failed (a wrong status, a redirect, a body "
        "without the expected text, no answer).",
        healthy="0% on every path.",
        failing="one path failing alone: read the summary's messages for it (a redirect names "
        "its target).",
        queries=(
            Query(
                f"{_by_path('locust_failures_total')} / {_by_path('locust_requests_total')}",
                "{{path}}",
            ),
        ),
        unit="percentunit",
        runbooks=("HighErrorRate",),
    ),
    Panel(
        title="Average response time by path",
        kind="timeseries",
        what="Mean response time of each declared path.",
        healthy="flat, each path near its own usual time.",
        failing="one path climbing while others hold: that page's own work (a query, a "
        "write) is the limit.",
        queries=(
            Query(
                f"{_by_path('locust_request_duration_seconds_sum')} "
                f"/ {_by_path('locust_request_duration_seconds_count')}",
                "{{path}}",
            ),
        ),
        unit="s",
        runbooks=("HighLatency",),
    ),
)


LOAD_TEST = Dashboard(
    uid="cce-loadtest",
    title="Load test",
    description="The seed's columns, live, for the selected scenario and time range.",
    variables=(Variable("scenario", "Scenario", "label_values(locust_users, scenario)"),),
    rows=(
        Row("Summary", SUMMARY_PANELS),
        Row("Over time", OVER_TIME_PANELS),
        Row("By path", BY_PATH_PANELS),
    ),
)

REQUESTS_PANELS = (
    Panel(
        title="Latency p50/p95/p99 by view",
        kind="timeseries",
        what="Time Django spends on a request, by view, from django-prometheus's histogram "
        "(buckets from 1 ms to 30 s); /metrics and /healthz left out.",
        healthy="p99 in milliseconds: one primary-key lookup per request.",
        failing="seconds, or a `<unnamed view>` line (requests rejected before any view).",
        queries=tuple(
            Query(
                _quantile(
                    q,
                    "django_http_requests_latency_seconds_by_view_method",
                    "le, view",
                    f"{APP_TARGET}, {USER_VIEWS}",
                ),
                f"p{int(q * 100)} {{{{view}}}}",
            )
            for q in (0.5, 0.95, 0.99)
        ),
        unit="s",
        runbooks=("HighLatency",),
    ),
    Panel(
        title="Responses by status class",
        kind="timeseries",
        what="Responses per second by status class, 400s on their own line (a 400 for an "
        "unknown Host lands here with view `<unnamed view>`).",
        healthy="all 2xx.",
        failing="all 400 (test 1: ALLOWED_HOSTS unset) or 5xx rising (test 4: too many "
        "database connections).",
        queries=(
            Query(
                f"sum by (class) (label_replace(rate({RESPONSES}{{{APP_TARGET}}}{WINDOW}), "
                '"class", "${1}xx", "status", "(.).."))',
                "{{class}}",
            ),
            Query(
                f'sum(rate({RESPONSES}{{{APP_TARGET}, status="400"}}{WINDOW}))',
                "400 (bad request)",
                frozenset({FAILURES}),
            ),
        ),
        unit="reqps",
        runbooks=("HighErrorRate", "BadRequestSurge"),
    ),
    Panel(
        title="Error ratio: 5xx and 400",
        kind="timeseries",
        what="Share of responses that were 5xx, and that were 400, per job (recording rules "
        "behind the HighErrorRate and BadRequestSurge alerts).",
        healthy="0.",
        failing="5xx above a few percent, or 400 near 100%.",
        queries=(
            Query(
                'job:django_http_responses_5xx:ratio_rate1m{job=~"$job"}',
                "{{job}} 5xx",
                frozenset({RULES}),
            ),
            Query(
                'job:django_http_responses_400:ratio_rate1m{job=~"$job"}',
                "{{job}} 400",
                frozenset({RULES}),
            ),
        ),
        unit="percentunit",
        runbooks=("HighErrorRate", "BadRequestSurge"),
    ),
)


WAITRESS_ONLY = (
    " Waitress only (python -m app.serve): empty under gunicorn, which has no such thread pool "
    "or queue; its workers show on the gunicorn panels below, the backlog on both servers'."
)
ON_WAITRESS = frozenset({WAITRESS})
ON_GUNICORN = frozenset({GUNICORN})

WAITRESS_PANELS = (
    Panel(
        title="Dyno CPU",
        kind="timeseries",
        what="CPU the app process of each dyno uses, in cores (process_cpu_seconds_total; "
        "under gunicorn the arbiter's and all its workers', dyno_metrics/process_tree.py). A "
        "local dyno is capped at a share of a core as a Heroku dyno is (sized to the machine, "
        "0.25 to 0.35, unless --dyno-cpu says otherwise, loadtests/dyno_cpu.py); the run's "
        "summary gives the share and the CPU per request.",
        healthy="below the dyno's share, with room to spare.",
        failing="flat at the share (the run's summary gives it) while the Waitress queue "
        "grows: the dyno is out of CPU, and more dynos (the seed's test 7) are the fix, not "
        "more threads.",
        queries=(
            Query(
                f"sum by (dyno) (rate(process_cpu_seconds_total{{{APP_TARGET}}}{WINDOW}))",
                "{{dyno}}",
            ),
        ),
        unit="short",
        runbooks=("RequestQueueing",),
    ),
    Panel(
        title="Waitress threads busy vs configured",
        kind="timeseries",
        what="Worker threads running a request now, against the threads configured."
        + WAITRESS_ONLY,
        healthy="busy below configured most of the time.",
        failing="busy pinned at configured: every thread works and new requests queue.",
        queries=(
            Query(f"waitress_threads_busy{{{APP_TARGET}}}", "{{dyno}} busy", ON_WAITRESS),
            Query(f"waitress_threads{{{APP_TARGET}}}", "{{dyno}} configured", ON_WAITRESS),
        ),
        unit="short",
        runbooks=("RequestQueueing",),
    ),
    Panel(
        title="Waitress queue depth",
        kind="timeseries",
        what="Requests accepted by Waitress and waiting for a free thread." + WAITRESS_ONLY,
        healthy="0, with short blips.",
        failing="growing for the whole run (test 6's peak concurrency): latency follows.",
        queries=(Query(f"waitress_queue_depth{{{APP_TARGET}}}", "{{dyno}} queued", ON_WAITRESS),),
        unit="short",
        runbooks=("RequestQueueing",),
    ),
    Panel(
        title="Waitress connections vs connection_limit",
        kind="timeseries",
        what="Client connections Waitress holds open (idle keep-alives of the router's pools "
        "included), against its connection_limit; past it Waitress stops accepting and new "
        "connections wait in the kernel's backlog (the Listen backlog panel), where its queue and "
        "busy threads do not show them." + WAITRESS_ONLY,
        healthy="well under the limit.",
        failing="flat at the limit, with connections waiting on the Listen backlog panel: "
        "Waitress has stopped accepting, and clients time out in the backlog.",
        queries=(
            Query(f"waitress_connections{{{APP_TARGET}}}", "{{dyno}} open", ON_WAITRESS),
            Query(
                f"waitress_connection_limit{{{APP_TARGET}}}",
                "{{dyno}} connection_limit",
                ON_WAITRESS,
            ),
        ),
        unit="short",
        runbooks=("WaitressConnectionsNearLimit", "RequestQueueing"),
    ),
    Panel(
        title="Router queue time (X-Request-Start)",
        kind="timeseries",
        what="Time from the router stamping X-Request-Start to the app reading the request.",
        healthy="milliseconds.",
        failing="seconds: requests wait in the router or the socket backlog before the "
        "server reads them (near 30 s the router answers 503).",
        queries=tuple(
            Query(
                _target_quantile(q, "http_request_queue_seconds", "le"),
                f"p{int(q * 100)}",
                frozenset({ROUTER}),
            )
            for q in (0.5, 0.95)
        ),
        unit="s",
        runbooks=("RequestQueueing",),
    ),
)


GUNICORN_PANELS = (
    Panel(
        title="gunicorn requests running vs limit",
        kind="timeseries",
        what="Requests gunicorn's workers run now, summed over a dyno's workers (server "
        "hooks; the scrape itself counts one), against what they can run at once: one per "
        "sync worker, `--threads` per gthread worker, `--worker-connections` per gevent "
        "worker; and the live workers. gunicorn with `-c python:dyno_metrics.gunicorn` only: "
        "empty under Waitress, whose threads are on the Waitress panels.",
        healthy="running below the limit most of the time.",
        failing="running pinned at the limit (tests 2 and 3: the one sync worker always "
        "busy): new connections wait in the listen backlog, unseen by the app.",
        queries=(
            Query(f"gunicorn_requests_active{{{APP_TARGET}}}", "{{dyno}} running", ON_GUNICORN),
            Query(f"gunicorn_requests_limit{{{APP_TARGET}}}", "{{dyno}} limit", ON_GUNICORN),
            Query(f"gunicorn_workers{{{APP_TARGET}}}", "{{dyno}} workers", ON_GUNICORN),
        ),
        unit="short",
        runbooks=("RequestQueueing",),
    ),
    Panel(
        title="Listen backlog vs limit",
        kind="timeseries",
        what="Connections the kernel accepted on the server's listen socket that no worker "
        "or Waitress thread has taken yet (Linux TCP_INFO; every worker's socket under "
        "gunicorn's reuse_port), against the backlog. "
        "Both servers: for gunicorn's sync workers this is where requests queue.",
        healthy="0, with short blips.",
        failing="above 0 for long (test 3: gunicorn's one sync worker, thousands of users), "
        "at the limit the kernel drops new connections; the router's queue time grows.",
        queries=(
            Query(f"listen_queue_depth{{{APP_TARGET}}}", "{{dyno}} waiting"),
            Query(f"listen_queue_limit{{{APP_TARGET}}}", "{{dyno}} backlog"),
        ),
        unit="short",
        runbooks=("RequestQueueing",),
    ),
)


DATABASE_PANELS = (
    Panel(
        title="Database connections by state vs max_connections",
        kind="timeseries",
        what="PostgreSQL's server-side connections by state (every app process reports the "
        "same server, so the max is taken), against max_connections.",
        healthy="well under max_connections; with Waitress about one per thread per dyno.",
        failing="total at max_connections (test 4: a connection per gevent greenlet) and "
        "connection errors below.",
        queries=(
            Query("max by (state) (pg_stat_activity_count)", "{{state}}"),
            Query("max(pg_settings_max_connections)", "max_connections"),
        ),
        unit="short",
        runbooks=("DatabaseConnectionsNearLimit",),
    ),
    Panel(
        title="Database connection usage",
        kind="timeseries",
        what="Connections in use as a share of max_connections "
        "(recording rule instance:pg_connections:usage_ratio).",
        healthy="under 80%.",
        failing="above 80%: the DatabaseConnectionsNearLimit alert fires; 100% means "
        "`FATAL: sorry, too many clients already`.",
        queries=(
            Query(
                "instance:pg_connections:usage_ratio",
                "{{instance}}",
                frozenset({RULES}),
            ),
        ),
        unit="percentunit",
        runbooks=("DatabaseConnectionsNearLimit",),
    ),
    Panel(
        title="Database connection errors",
        kind="timeseries",
        what="Failed attempts to open a database connection, and failed queries by type, "
        "per second.",
        healthy="0.",
        failing="connection errors in step with 500s (test 4: too many clients).",
        queries=(
            Query(
                f"sum(rate(django_db_new_connection_errors_total{{{APP_TARGET}}}{WINDOW}))"
                " or vector(0)",
                "connection errors",
            ),
            Query(
                f"sum by (type) (rate(django_db_errors_total{{{APP_TARGET}}}{WINDOW}))",
                "query errors {{type}}",
                frozenset({FAILURES}),
            ),
        ),
        unit="short",
        runbooks=("DatabaseConnectionErrors",),
    ),
    Panel(
        title="New database connections per second",
        kind="timeseries",
        what="Database connections Django opened per second.",
        healthy="near 0 once warm: persistent connections (CONN_MAX_AGE) are reused.",
        failing="one per request (CONN_MAX_AGE=0) or a burst as greenlets each connect.",
        queries=(
            Query(
                _target_rate("django_db_new_connections_total", "dyno"),
                "{{dyno}} new connections",
            ),
        ),
        unit="short",
        runbooks=("DatabaseConnectionsNearLimit",),
    ),
    Panel(
        title="Open database connections per process",
        kind="timeseries",
        what="Database connections each app process holds open now.",
        healthy="at most one per Waitress thread (plus the metrics collector).",
        failing="far above the thread count: connections leak or every greenlet holds one.",
        queries=(Query(f"django_db_connections_open{{{APP_TARGET}}}", "{{dyno}} {{instance}}"),),
        unit="short",
        runbooks=("DatabaseConnectionsNearLimit",),
    ),
)


CACHE_PANELS = (
    Panel(
        title="Cache hit ratio",
        kind="timeseries",
        what="Share of the page's Redis reads that found the snippet (django-prometheus's "
        "cache backend, only with REDIS_URL set). A miss reads the database once and refills "
        "the slot.",
        healthy="above 99% once warm: CACHE_SLOTS slots (1000) each read from the database "
        "about once per 5-minute expiry, whatever the request rate (test 9).",
        failing="falling towards 0 while requests go on: Redis was emptied or restarted, or "
        "reads fail (see the failures panel); every request then reads PostgreSQL again.",
        queries=(
            Query(
                f"{_target_rate('django_cache_get_hits_total', 'dyno')} "
                f"/ {_target_rate('django_cache_get_total', 'dyno')}",
                "{{dyno}} hit ratio",
                frozenset({CACHE}),
            ),
        ),
        unit="percentunit",
        runbooks=("PageCacheFailing",),
    ),
    Panel(
        title="Cache failures and database fallbacks",
        kind="timeseries",
        what="Redis reads that failed, per second, and page reads that went to the database "
        "instead: `error` (the read failed) and `skipped` (Redis left alone for 2 s after a "
        "failure, so a dead Redis costs nothing per request).",
        healthy="0: every read answered by Redis, the database read only on a miss.",
        failing="errors then a steady line of skipped fallbacks: Redis is down or slower than "
        "the 0.25 s socket timeout; the page still answers from PostgreSQL (no 500s), and its "
        "connections and latency rise back to test 8's. After Redis returns the lines drop "
        "to 0 without a restart.",
        queries=(
            Query(
                _target_rate("django_cache_get_fail_total", "dyno"),
                "{{dyno}} failed reads",
                frozenset({CACHE, FAILURES}),
            ),
            Query(
                _target_rate("page_cache_fallbacks_total", "dyno, reason"),
                "{{dyno}} fallback: {{reason}}",
                frozenset({CACHE}),
            ),
        ),
        unit="reqps",
        runbooks=("PageCacheFailing",),
    ),
)

POOLER_PANELS = (
    Panel(
        title="PgBouncer pools",
        kind="timeseries",
        what="PgBouncer's SHOW POOLS (pgbouncer_exporter's names, job pgbouncer): the app's "
        "client connections active and waiting, and the server connections to PostgreSQL "
        "active and idle. PostgreSQL sees only the server connections.",
        healthy="clients waiting at 0; server connections at or below default_pool_size (15 "
        "in test 4b) however many clients the app opens (test 4b: hundreds of greenlets).",
        failing="clients waiting above 0 for minutes: every server connection is busy, the "
        "pool is too small for the load or queries are slow; requests wait in the pooler.",
        queries=tuple(
            Query(
                f"sum by (database) (pgbouncer_pools_{series}_connections)",
                f"{{{{database}}}} {legend}",
                frozenset({POOLER}),
            )
            for series, legend in (
                ("client_active", "clients active"),
                ("client_waiting", "clients waiting"),
                ("server_active", "server active"),
                ("server_idle", "server idle"),
            )
        ),
        unit="short",
        runbooks=("PoolerClientsWaiting",),
    ),
)


ALERTS_PANELS = (
    Panel(
        title="Firing alerts",
        kind="table",
        what="Alerts firing now; each alert's runbook_url annotation links its page.",
        healthy="empty.",
        failing="a row per alert: open its runbook from runbooks/.",
        queries=(Query('ALERTS{alertstate="firing"}', "{{alertname}}", frozenset({FAILURES})),),
        unit="short",
    ),
)


APP_AND_DATABASE = Dashboard(
    uid="cce-app",
    title="App and database",
    description="What the seed could not see: inside Waitress, Django and PostgreSQL.",
    variables=(
        # The jobs' own values for "All", not `.*`: other jobs (Locust, the drain, Prometheus)
        # export process_cpu_seconds_total too.
        Variable("job", "Job", "label_values(app_info, job)", all_value=None),
        Variable("dyno", "Dyno", 'label_values(app_info{job=~"$job"}, dyno)'),
    ),
    rows=(
        Row("Requests", REQUESTS_PANELS),
        Row("Waitress", WAITRESS_PANELS),
        Row("gunicorn, and the listen backlog", GUNICORN_PANELS),
        Row("Database", DATABASE_PANELS),
        Row("Redis page cache", CACHE_PANELS),
        Row("PgBouncer", POOLER_PANELS),
        Row("Alerts", ALERTS_PANELS),
    ),
)


# The Heroku dashboard reads what the log-drain receiver (metrics/drain) exports: the router's,
# the dynos' and Heroku Postgres's own log lines, and the app's per-dyno `sample#` line. Dynos
# are labelled by the receiver, so `$dyno` filters them even on a multi-dyno app; H10 lines
# name no dyno (`dyno=""`), which the "All" value `.*` still matches.
ON_DRAIN = frozenset({DRAIN})
DRAIN_FAILURES = frozenset({DRAIN, FAILURES})
HEROKU_ALERTS = (
    "HerokuRequestTimeouts",
    "HerokuConnectionsClosed",
    "HerokuMemoryOverQuota",
    "HerokuRedisConnectionsNearLimit",
    "DatabaseConnectionsNearLimit",
)


def _drain_quantiles(histogram: str, quantiles: tuple[float, ...]) -> tuple[Query, ...]:
    return tuple(
        Query(_app_quantile(q, histogram, "le, dyno"), f"{{{{dyno}}}} p{int(q * 100)}", ON_DRAIN)
        for q in quantiles
    )


ROUTER_PANELS = (
    Panel(
        title="Router requests by status and error code",
        kind="timeseries",
        what="Requests Heroku's router passed to each dyno, per second, by HTTP status, and "
        "those it logged with an error code (H10 app crashed, H12 timeout, H13/H18 connection "
        "closed, H27 client gone...).",
        healthy="all 200, no code lines.",
        failing="H12 (the dyno gave no response within 30 s: the router sent the user a 503 "
        "itself), H13/H18 (the dyno closed the connection), or H10 lines with no dyno.",
        queries=(
            Query(
                _app_rate("heroku_router_requests_total", "dyno, status"),
                "{{dyno}} {{status}}",
                ON_DRAIN,
            ),
            Query(
                f'sum by (dyno, code) (rate(heroku_router_requests_total{{{APP}, code!=""}}'
                f"{WINDOW}))",
                "{{dyno}} {{code}}",
                DRAIN_FAILURES,
            ),
        ),
        unit="reqps",
        runbooks=("HerokuRequestTimeouts", "HerokuConnectionsClosed"),
    ),
    Panel(
        title="Router service time p50/p95/p99 by dyno",
        kind="timeseries",
        what="Time from the router sending the request to the dyno until the dyno's response "
        "began (router `service=`), as the router measured it.",
        healthy="milliseconds, the same on every dyno.",
        failing="one dyno slower than the others (uneven load, a stuck process), or p99 at "
        "30 s: H12 timeouts.",
        queries=_drain_quantiles("heroku_router_service_seconds", (0.5, 0.95, 0.99)),
        unit="s",
        runbooks=("HerokuRequestTimeouts", "HighLatency"),
    ),
    Panel(
        title="Router connect time p50/p95 by dyno",
        kind="timeseries",
        what="Time the router took to open a TCP connection to the dyno (router `connect=`).",
        healthy="0 to 1 ms.",
        failing="milliseconds and rising: the dyno's listen backlog is full and Waitress "
        "accepts late (see the queue panel below).",
        queries=_drain_quantiles("heroku_router_connect_seconds", (0.5, 0.95)),
        unit="s",
        runbooks=("RequestQueueing",),
    ),
    Panel(
        title="Router protocols: HTTP/2 share and TLS versions",
        kind="timeseries",
        what="Share of the app's requests that reached Heroku's router over HTTP/2, and the "
        "TLS versions clients used, from Router 2.0's `protocol=` and `tls_version=` fields "
        "(legacy router lines carry neither). HTTP/2 ends at the router: the dyno always "
        "speaks HTTP/1.1, so this is the clients' side only.",
        healthy="steady shares: HTTP/2 from browsers on custom domains, TLS 1.3 for most; "
        "`unknown` is normal on the herokuapp.com domain.",
        failing="a sudden change (HTTP/2 at 0% after a DNS or certificate change, a rise of "
        "`none`, plain HTTP): the clients, not the dynos, changed.",
        queries=(
            Query(
                '(sum(rate(heroku_router_protocol_requests_total{protocol="http2.0"}'
                f"{WINDOW})) or vector(0)) / sum(rate(heroku_router_protocol_requests_total"
                f"{WINDOW}))",
                "HTTP/2",
                ON_DRAIN,
            ),
            Query(
                "sum by (tls_version) (rate(heroku_router_protocol_requests_total"
                f'{{tls_version!=""}}{WINDOW})) / scalar(sum(rate('
                f'heroku_router_protocol_requests_total{{tls_version!=""}}{WINDOW})))',
                "{{tls_version}}",
                frozenset({DRAIN, TLS}),
            ),
        ),
        unit="percentunit",
    ),
)


DYNO_PANELS = (
    Panel(
        title="Dyno memory vs quota",
        kind="timeseries",
        what="Each dyno's memory (RSS, swap and cache) as a share of its dyno type's quota, "
        "the percentage Heroku prints as `Process running mem=590M(115.2%)` "
        "(log-runtime-metrics).",
        healthy="flat, well under 100%.",
        failing="above 100%: the dyno swaps and logs R14; far above, Heroku kills it (R15).",
        queries=(
            Query(
                f"max by (dyno) (heroku_dyno_memory_total_bytes{{{APP}}} "
                f"/ heroku_dyno_memory_quota_bytes{{{APP}}})",
                "{{dyno}}",
                ON_DRAIN,
            ),
        ),
        unit="percentunit",
        runbooks=("HerokuMemoryOverQuota",),
    ),
    Panel(
        title="Dyno memory: RSS, swap and quota",
        kind="timeseries",
        what="Resident memory, swap in use and the quota of each dyno, in bytes.",
        healthy="RSS flat under the quota, swap near 0.",
        failing="RSS climbing run after run (a leak), or swap growing: the dyno is over quota "
        "and every request pays for paging.",
        queries=tuple(
            Query(f"heroku_dyno_memory_{kind}_bytes{{{APP}}}", f"{{{{dyno}}}} {kind}", ON_DRAIN)
            for kind in ("rss", "swap", "quota")
        ),
        unit="bytes",
        runbooks=("HerokuMemoryOverQuota",),
    ),
    Panel(
        title="Dyno load average",
        kind="timeseries",
        what="Each dyno's 1, 5 and 15-minute load averages: processes running or waiting for "
        "a CPU (log-runtime-metrics).",
        healthy="low and flat through the run: few tasks wait for a CPU.",
        failing="climbing with the users and staying high: the dyno is CPU-bound, so "
        "requests wait for the CPU rather than for the database.",
        queries=(Query(f"heroku_dyno_load_average{{{APP}}}", "{{dyno}} {{window}}", ON_DRAIN),),
        unit="short",
    ),
    Panel(
        title="R14/R15 memory errors",
        kind="timeseries",
        what="`Error R14 (Memory quota exceeded)` and R15 (vastly exceeded: the dyno is "
        "killed) lines per dyno over each interval.",
        healthy="none.",
        failing="R14 lines while the memory panel is above 100%; R15 restarts the dyno.",
        queries=(
            Query(
                f"sum by (dyno, code) (increase(heroku_dyno_errors_total{{{APP}}}{WINDOW}))",
                "{{dyno}} {{code}}",
                DRAIN_FAILURES,
            ),
        ),
        unit="short",
        runbooks=("HerokuMemoryOverQuota",),
    ),
)


# Each server logs its own line (dyno_metrics/l2met.py): Waitress's process, or gunicorn's
# arbiter with its live workers' sums. A panel draws both, so it reads the same on either.
DRAIN_WAITRESS = frozenset({DRAIN, WAITRESS})
DRAIN_GUNICORN = frozenset({DRAIN, GUNICORN})
APP_LINE_PANELS = (
    Panel(
        title="Requests waiting per dyno",
        kind="timeseries",
        what="What waits on each dyno for the server to take it, from the app's own "
        "`sample#` log line (every 5 s): under Waitress, requests accepted and waiting for a "
        "free thread (`waitress_queue_depth`); under gunicorn, connections in the listen "
        "backlog that no worker has accepted yet (`listen_queue_depth`, read by the arbiter).",
        healthy="0, with short blips.",
        failing="growing on one dyno or all of them: every thread or worker is busy and the "
        "router's service time follows, up to H12 at 30 s.",
        queries=(
            Query(f"heroku_app_waitress_queue_depth{{{APP}}}", "{{dyno}} queued", DRAIN_WAITRESS),
            Query(f"heroku_app_listen_queue_depth{{{APP}}}", "{{dyno}} in backlog", DRAIN_GUNICORN),
        ),
        unit="short",
        runbooks=("RequestQueueing",),
    ),
    Panel(
        title="Busy vs capacity per dyno",
        kind="timeseries",
        what="Requests each dyno runs now against what it can run at once (the app's "
        "`sample#` line): Waitress's busy threads against its threads; gunicorn's requests "
        "running, summed over the dyno's live workers, against their limit (one per sync "
        "worker, `--threads` per gthread worker, `--worker-connections` per gevent worker), "
        "and its live workers.",
        healthy="busy below capacity most of the time; gunicorn's workers steady at "
        "WEB_CONCURRENCY.",
        failing="busy pinned at capacity on every dyno: add dynos or make each request "
        "cheaper (the Redis cache). gunicorn's workers dropping or 0: they crash or time out "
        "(look for WORKER TIMEOUT in the dyno's log).",
        queries=(
            Query(f"heroku_app_waitress_threads_busy{{{APP}}}", "{{dyno}} busy", DRAIN_WAITRESS),
            Query(f"heroku_app_waitress_threads{{{APP}}}", "{{dyno}} threads", DRAIN_WAITRESS),
            Query(
                f"heroku_app_gunicorn_requests_active{{{APP}}}", "{{dyno}} running", DRAIN_GUNICORN
            ),
            Query(f"heroku_app_gunicorn_requests_limit{{{APP}}}", "{{dyno}} limit", DRAIN_GUNICORN),
            Query(f"heroku_app_gunicorn_workers{{{APP}}}", "{{dyno}} workers", DRAIN_GUNICORN),
        ),
        unit="short",
        runbooks=("RequestQueueing",),
    ),
    Panel(
        title="Database connections per dyno",
        kind="timeseries",
        what="Database connections each dyno holds open (Waitress's process, or the sum "
        "over gunicorn's live workers), and their sum over the dynos: what they together "
        "take from the plan's connection limit.",
        healthy="about one per Waitress thread per dyno (under gunicorn: per sync worker, "
        "per gthread thread); the sum under the limit on the Postgres panel below.",
        failing="the sum near the plan's limit (Essential-0/1: 20): one more dyno or thread "
        "and connections are refused.",
        queries=(
            Query(f"heroku_app_django_db_connections_open{{{APP}}}", "{{dyno}}", ON_DRAIN),
            Query(f"sum(heroku_app_django_db_connections_open{{{APP}}})", "all dynos", ON_DRAIN),
        ),
        unit="short",
        runbooks=("DatabaseConnectionsNearLimit",),
    ),
)


_ESSENTIAL_PLANS = (
    " Essential plans log no metrics (Heroku writes these lines for Standard plans and "
    "above only), so on them this panel stays empty: the app's own `pg_stat_activity` "
    'view covers them (`pg_stat_activity_count`, dashboard "App and database", panel '
    "**Database connections by state vs max_connections**)."
)

HEROKU_POSTGRES_USAGE = (
    "max by (addon, source) (heroku_postgres_active_connections) / on (addon, source) "
    "max by (addon, source) (heroku_postgres_max_connections) "
    "or max by (addon, source) (heroku_postgres_active_connections) / on () group_left () "
    "max(heroku_postgres_plan_max_connections)"
)

HEROKU_POSTGRES_PANELS = (
    Panel(
        title="Heroku Postgres connections vs limit",
        kind="timeseries",
        what="Connections open on the Heroku Postgres database and connections waiting on a "
        "lock, from its metrics log lines, against its limit: `sample#max-connections` where "
        "the logs give it, else the plan's limit the receiver was told "
        "(DRAIN_PG_MAX_CONNECTIONS)." + _ESSENTIAL_PLANS,
        healthy="active well under the limit, waiting 0.",
        failing="active at the limit (new connections get `too many clients`), or waiting "
        "above 0 for long (queries blocked by locks).",
        queries=(
            Query(
                "max by (addon) (heroku_postgres_active_connections)", "{{addon}} active", ON_DRAIN
            ),
            Query(
                "max by (addon) (heroku_postgres_waiting_connections)",
                "{{addon}} waiting",
                ON_DRAIN,
            ),
            Query(
                "max(heroku_postgres_max_connections) or max(heroku_postgres_plan_max_connections)",
                "connection limit",
                ON_DRAIN,
            ),
        ),
        unit="short",
        runbooks=("DatabaseConnectionsNearLimit",),
    ),
    Panel(
        title="Heroku Postgres connection usage",
        kind="timeseries",
        what="Active connections as a share of the limit, the ratio the Heroku variant of "
        "DatabaseConnectionsNearLimit checks (metrics/rules/heroku.yml)." + _ESSENTIAL_PLANS,
        healthy="under 80%.",
        failing="above 80% for 5 minutes: the alert fires; at 100% connections are refused.",
        queries=(Query(HEROKU_POSTGRES_USAGE, "{{addon}} ({{source}})", ON_DRAIN),),
        unit="percentunit",
        runbooks=("DatabaseConnectionsNearLimit",),
    ),
    Panel(
        title="Heroku Postgres cache hit rates",
        kind="timeseries",
        what="Share of table and index reads served from PostgreSQL's memory rather than disk."
        + _ESSENTIAL_PLANS,
        healthy="above 99%: the working set fits the plan's memory.",
        failing="below 99% and falling: reads go to disk; a bigger plan (more memory) or "
        "fewer rows read per request.",
        queries=tuple(
            Query(
                f"max by (addon) (heroku_postgres_{kind}_cache_hit_ratio)",
                f"{{{{addon}}}} {kind}",
                ON_DRAIN,
            )
            for kind in ("table", "index")
        ),
        unit="percentunit",
    ),
    Panel(
        title="Heroku Postgres database size",
        kind="timeseries",
        what="Size of the database on disk (`sample#db_size`)." + _ESSENTIAL_PLANS,
        healthy="flat during a load test (the page only reads).",
        failing="near the plan's storage limit: above it Heroku revokes write access "
        "(Essential plans).",
        queries=(Query("max by (addon) (heroku_postgres_db_size_bytes)", "{{addon}}", ON_DRAIN),),
        unit="bytes",
    ),
    Panel(
        title="PgBouncer clients and server connections",
        kind="timeseries",
        what="Heroku's connection pooler: client connections running a transaction "
        "(client_active) or waiting for a server connection (client_waiting), and its "
        "connections to PostgreSQL in use (server_active).",
        healthy="client_waiting 0; server_active within the pool, far below the clients.",
        failing="client_waiting above 0 for long: the pool is too small for the clients, "
        "and requests wait for a connection.",
        queries=tuple(
            Query(
                f"max by (addon) (heroku_pgbouncer_{kind}_connections)",
                f"{{{{addon}}}} {kind}",
                ON_DRAIN,
            )
            for kind in ("client_active", "client_waiting", "server_active")
        ),
        unit="short",
        runbooks=("DatabaseConnectionsNearLimit",),
    ),
)


HEROKU_REDIS_PANELS = (
    Panel(
        title="Heroku Redis connections vs limit",
        kind="timeseries",
        what="Clients connected to each Heroku Redis add-on, from its metrics log lines "
        "(`sample#active-connections`), against its plan's limit (`sample#max-connections`, "
        "on newer lines only). Each Waitress thread whose page cache has been used may hold "
        "one.",
        healthy="well under the limit, also through a deploy (old and new dynos overlap).",
        failing="at 80% of the limit for 5 minutes HerokuRedisConnectionsNearLimit fires; at "
        "the limit Redis refuses clients and the page cache falls back to the database.",
        queries=(
            Query("max by (addon) (heroku_redis_active_connections)", "{{addon}} active", ON_DRAIN),
            Query("max by (addon) (heroku_redis_max_connections)", "{{addon}} limit", ON_DRAIN),
        ),
        unit="short",
        runbooks=("HerokuRedisConnectionsNearLimit",),
    ),
    Panel(
        title="Heroku Redis hit rate",
        kind="timeseries",
        what="Share of key lookups that found their key, as Heroku Redis reports it "
        "(`sample#hit-rate`).",
        healthy="high and steady while the page cache serves (above 90% in test 9 here).",
        failing="falling: keys evicted or expiring before they are read again, or a cache "
        "that restarted empty; the database serves the page again.",
        queries=(Query("max by (addon) (heroku_redis_hit_ratio)", "{{addon}}", ON_DRAIN),),
        unit="percentunit",
        runbooks=("PageCacheFailing",),
    ),
    Panel(
        title="Heroku Redis evicted keys",
        kind="timeseries",
        what="Keys Redis evicted to stay within its memory (`sample#evicted-keys` of each "
        "metrics line).",
        healthy="0.",
        failing="above 0: the plan's memory is full and the cache loses entries; a larger "
        "plan or fewer, smaller cached values.",
        queries=(Query("max by (addon) (heroku_redis_evicted_keys)", "{{addon}}", ON_DRAIN),),
        unit="short",
        runbooks=("PageCacheFailing",),
    ),
    Panel(
        title="Heroku Redis memory",
        kind="timeseries",
        what="Memory used by the Redis data set (`sample#memory-redis`).",
        healthy="flat at the size of the cached pages.",
        failing="climbing to the plan's memory, where evictions start.",
        queries=(Query("max by (addon) (heroku_redis_memory_bytes)", "{{addon}}", ON_DRAIN),),
        unit="bytes",
    ),
)


HEROKU_ALERTS_PANELS = (
    Panel(
        title="Firing Heroku alerts",
        kind="table",
        what="Heroku-side alerts firing now (metrics/rules/heroku.yml), and "
        "DatabaseConnectionsNearLimit from Heroku Postgres (the rows with an `addon`).",
        healthy="empty.",
        failing="a row per alert and dyno or database: open its runbook.",
        queries=(
            Query(
                'ALERTS{alertstate="firing", alertname=~"Heroku.+"} or '
                'ALERTS{alertstate="firing", alertname="DatabaseConnectionsNearLimit", addon!=""}',
                "{{alertname}}",
                DRAIN_FAILURES,
            ),
        ),
        unit="short",
        runbooks=HEROKU_ALERTS,
    ),
)


HEROKU = Dashboard(
    uid="cce-heroku",
    title="Heroku",
    description="A Heroku app from its own logs, per dyno: the router, the dynos' memory and "
    "load, Heroku Postgres and its pooler, Heroku Redis, and the app's per-dyno Waitress "
    "figures (the log-drain receiver, metrics/drain).",
    variables=(Variable("dyno", "Dyno", "label_values(heroku_router_requests_total, dyno)"),),
    rows=(
        Row("Router", ROUTER_PANELS),
        Row("Dynos", DYNO_PANELS),
        Row("App per dyno (its sample# log lines)", APP_LINE_PANELS),
        Row("Heroku Postgres", HEROKU_POSTGRES_PANELS),
        Row("Heroku Redis", HEROKU_REDIS_PANELS),
        Row("Alerts", HEROKU_ALERTS_PANELS),
    ),
)

DASHBOARDS = (LOAD_TEST, APP_AND_DATABASE, HEROKU)


def expand(
    expr: str,
    *,
    range_s: float,
    scenario: str = ALL_VALUE,
    dyno: str = ALL_VALUE,
    job: str = KIT_APP_JOBS,
    rate_interval: str = defaults.rate_interval(step_s=1),
) -> str:
    """Replace Grafana's variables in `expr` with values, giving plain PromQL.

    The longer names go first so `$__range_s` is not read as `$__range` followed by `_s`.
    """
    values = {
        "$__rate_interval": rate_interval,
        "$__range_s": str(int(range_s)),
        "$__range": f"{int(range_s)}s",
        "$scenario": scenario,
        "$dyno": dyno,
        "$job": job,
    }
    for name, value in values.items():
        expr = expr.replace(name, value)
    return expr


def queries(
    range_s: float = 300,
    scenario: str = ALL_VALUE,
    dyno: str = ALL_VALUE,
    job: str = KIT_APP_JOBS,
) -> list[PanelQuery]:
    """Every query of every panel as plain PromQL, with what it needs beyond the scrapes.

    `range_s` stands for the dashboard's time range (the stat panels sum over it).
    """
    return [
        PanelQuery(
            dashboard.uid,
            panel.title,
            expand(query.expr, range_s=range_s, scenario=scenario, dyno=dyno, job=job),
            query.legend,
            query.needs,
            panel.kind != "timeseries",
        )
        for dashboard in DASHBOARDS
        for panel in dashboard.panels
        for query in panel.queries
    ]
