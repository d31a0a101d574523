"""Checks of the panels' queries against a real Prometheus, for the tests here and the
end-to-end load-run test: which queries Prometheus rejects, and which return no data."""

from dashboards.defaults import ALL_VALUE, KIT_APP_JOBS
from dashboards.panels import PanelQuery, queries
from dashboards.sources import PrometheusSource, QueryError


def rejected_queries(prometheus_url: str, exprs: list[str], at: float) -> list[str]:
    """Prometheus's error for each expression it refuses (a parse error is HTTP 400)."""
    source = PrometheusSource(prometheus_url)
    errors = []
    for expr in exprs:
        try:
            source.instant(expr, at)
        except QueryError as error:
            errors.append(str(error))
    return errors


def empty_queries(
    prometheus_url: str,
    at: float,
    range_s: float,
    scenario: str = ALL_VALUE,
    dyno: str = ALL_VALUE,
    available: frozenset[str] = frozenset(),
    job: str = KIT_APP_JOBS,
) -> list[PanelQuery]:
    """The queries that return no series at `at` although everything they need is available.

    `available` names the needs (dashboards.panels.RULES, FAILURES, ROUTER) this run
    satisfies; a query with other needs is not asked. `range_s` stands for the dashboard's time
    range, over which the stat panels sum; `job` for the app dashboard's job variable.
    """
    source = PrometheusSource(prometheus_url)
    return [
        query
        for query in queries(range_s=range_s, scenario=scenario, dyno=dyno, job=job)
        if query.needs <= available and not source.instant(query.expr, at)
    ]
