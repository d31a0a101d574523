"""What every panel shows: the one source the Grafana generator and the HTML report both read.

A panel is a title, a kind (stat, timeseries, table), its PromQL queries with legends, a unit,
what a healthy and a failing load test look like on it, and the runbooks of the alerts it
explains. Expressions use Grafana's variables ($scenario, $dyno, $__rate_interval, $__range,
$__range_s); `expand` turns them into plain PromQL for code that queries Prometheus itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, NamedTuple

from dashboards.defaults import ALL_VALUE, REPORT_RATE_INTERVAL
from metrics.alerting.rules import runbook_url

# What a query needs beyond the app and the Locust exporter being scraped. A query with no
# needs returns data after any real load run; the others are listed so a test can tell.
RULES = "recording_rules"  # the repo's recording rules loaded into Prometheus (metrics/rules)
FAILURES = "failures"  # series exist only once something failed (an error kind, a firing alert)
ROUTER = "router"  # observations only when a router stamps X-Request-Start

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
WINDOW = "[$__rate_interval]"
RANGE = "[$__range]"
RESPONSES = "django_http_responses_total_by_status_view_method_total"


def _locust_increase(metric: str) -> str:
    return f"sum(increase({metric}{{{LOCUST}}}{RANGE}))"


def _locust_rate(metric: str) -> str:
    return f"sum by (scenario) (rate({metric}{{{LOCUST}}}{WINDOW}))"


def _app_quantile(q: float, histogram: str, by: str) -> str:
    return f"histogram_quantile({q}, sum by ({by}) (rate({histogram}_bucket{{{APP}}}{WINDOW})))"


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
        what="Requests per minute completed (recording rule scenario:locust_requests:rate1m).",
        healthy="rises with the users and holds flat.",
        failing="flat or falling while users rise: the server is saturated.",
        queries=(
            Query(
                f"60 * scenario:locust_requests:rate1m{{{LOCUST}}}",
                "{{scenario}} req/min",
                frozenset({RULES}),
            ),
        ),
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
        what="Response time seen by the users: mean, 95th percentile (recording rule) "
        "and the maximum of the last 10 s.",
        healthy="flat lines, p95 a few times the average.",
        failing="all three climbing together for the whole run: requests queue.",
        queries=(
            Query(
                f"{_locust_rate('locust_request_duration_seconds_sum')} "
                f"/ {_locust_rate('locust_request_duration_seconds_count')}",
                "{{scenario}} avg",
            ),
            Query(
                f"scenario:locust_request_duration_seconds:p95_rate1m{{{LOCUST}}}",
                "{{scenario}} p95",
                frozenset({RULES}),
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


LOAD_TEST = Dashboard(
    uid="cce-loadtest",
    title="Load test",
    description="The seed's columns, live, for the selected scenario and time range.",
    variables=(Variable("scenario", "Scenario", "label_values(locust_users, scenario)"),),
    rows=(
        Row("Summary", SUMMARY_PANELS),
        Row("Over time", OVER_TIME_PANELS),
    ),
)

REQUESTS_PANELS = (
    Panel(
        title="Latency p50/p95/p99 by view",
        kind="timeseries",
        what="Time Django spends on a request, by view, from django-prometheus's histogram.",
        healthy="p99 in milliseconds: one primary-key lookup per request.",
        failing="seconds, or a `<unnamed view>` line (requests rejected before any view).",
        queries=tuple(
            Query(
                _app_quantile(q, "django_http_requests_latency_seconds_by_view_method", "le, view"),
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
                f"sum by (class) (label_replace(rate({RESPONSES}{{{APP}}}{WINDOW}), "
                '"class", "${1}xx", "status", "(.).."))',
                "{{class}}",
            ),
            Query(
                f'sum(rate({RESPONSES}{{{APP}, status="400"}}{WINDOW}))',
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
                "job:django_http_responses_5xx:ratio_rate1m",
                "{{job}} 5xx",
                frozenset({RULES}),
            ),
            Query(
                "job:django_http_responses_400:ratio_rate1m",
                "{{job}} 400",
                frozenset({RULES}),
            ),
        ),
        unit="percentunit",
        runbooks=("HighErrorRate", "BadRequestSurge"),
    ),
)


WAITRESS_PANELS = (
    Panel(
        title="Waitress threads busy vs configured",
        kind="timeseries",
        what="Worker threads running a request now, against the threads configured.",
        healthy="busy below configured most of the time.",
        failing="busy pinned at configured: every thread works and new requests queue.",
        queries=(
            Query(f"waitress_threads_busy{{{APP}}}", "{{dyno}} busy"),
            Query(f"waitress_threads{{{APP}}}", "{{dyno}} configured"),
        ),
        unit="short",
        runbooks=("RequestQueueing",),
    ),
    Panel(
        title="Waitress queue depth",
        kind="timeseries",
        what="Requests accepted by Waitress and waiting for a free thread.",
        healthy="0, with short blips.",
        failing="growing for the whole run (test 6's peak concurrency): latency follows.",
        queries=(Query(f"waitress_queue_depth{{{APP}}}", "{{dyno}} queued"),),
        unit="short",
        runbooks=("RequestQueueing",),
    ),
    Panel(
        title="Waitress connections vs connection_limit",
        kind="timeseries",
        what="Client connections Waitress holds open, against its connection_limit.",
        healthy="well under the limit (the router pools connections).",
        failing="flat at the limit: Waitress stops accepting and clients time out.",
        queries=(
            Query(f"waitress_connections{{{APP}}}", "{{dyno}} open"),
            Query(f"waitress_connection_limit{{{APP}}}", "{{dyno}} connection_limit"),
        ),
        unit="short",
        runbooks=("RequestQueueing",),
    ),
    Panel(
        title="Router queue time (X-Request-Start)",
        kind="timeseries",
        what="Time from the router stamping X-Request-Start to the app reading the request.",
        healthy="milliseconds.",
        failing="seconds: requests wait in the router or the socket backlog before Waitress "
        "reads them (near 30 s the router answers 503).",
        queries=tuple(
            Query(
                _app_quantile(q, "http_request_queue_seconds", "le"),
                f"p{int(q * 100)}",
                frozenset({ROUTER}),
            )
            for q in (0.5, 0.95)
        ),
        unit="s",
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
                f"sum(rate(django_db_new_connection_errors_total{{{APP}}}{WINDOW})) or vector(0)",
                "connection errors",
            ),
            Query(
                f"sum by (type) (rate(django_db_errors_total{{{APP}}}{WINDOW}))",
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
                f"sum by (dyno) (rate(django_db_new_connections_total{{{APP}}}{WINDOW}))",
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
        queries=(Query(f"django_db_connections_open{{{APP}}}", "{{dyno}} {{instance}}"),),
        unit="short",
        runbooks=("DatabaseConnectionsNearLimit",),
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
    variables=(Variable("dyno", "Dyno", "label_values(app_info, dyno)"),),
    rows=(
        Row("Requests", REQUESTS_PANELS),
        Row("Waitress", WAITRESS_PANELS),
        Row("Database", DATABASE_PANELS),
        Row("Alerts", ALERTS_PANELS),
    ),
)

DASHBOARDS = (LOAD_TEST, APP_AND_DATABASE)


def expand(
    expr: str,
    *,
    range_s: float,
    scenario: str = ALL_VALUE,
    dyno: str = ALL_VALUE,
    rate_interval: str = REPORT_RATE_INTERVAL,
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
    }
    for name, value in values.items():
        expr = expr.replace(name, value)
    return expr


def queries(
    range_s: float = 300, scenario: str = ALL_VALUE, dyno: str = ALL_VALUE
) -> list[PanelQuery]:
    """Every query of every panel as plain PromQL, with what it needs beyond the scrapes.

    `range_s` stands for the dashboard's time range (the stat panels sum over it).
    """
    return [
        PanelQuery(
            dashboard.uid,
            panel.title,
            expand(query.expr, range_s=range_s, scenario=scenario, dyno=dyno),
            query.legend,
            query.needs,
            panel.kind != "timeseries",
        )
        for dashboard in DASHBOARDS
        for panel in dashboard.panels
        for query in panel.queries
    ]
