"""Every panel's PromQL against a real Prometheus: it parses, and it returns data after a run."""

import time

import pytest

from dashboards.grafana import RUN_ANNOTATION_EXPR
from dashboards.panels import queries
from dashboards.sources import PrometheusSource, QueryError


def parse_errors(url: str, exprs: list[str]) -> list[str]:
    """The expressions Prometheus rejects, with its error message."""
    source = PrometheusSource(url)
    errors = []
    for expr in exprs:
        try:
            source.instant(expr, time.time())
        except QueryError as error:
            errors.append(str(error))
    return errors


@pytest.mark.parametrize("scenario,dyno", [(".*", ".*"), ("test5", "web.1")])
def test_every_panel_query_parses(prometheus, scenario, dyno):
    url, _, _ = prometheus
    exprs = [q.expr for q in queries(range_s=300, scenario=scenario, dyno=dyno)]
    assert parse_errors(url, exprs + [RUN_ANNOTATION_EXPR]) == []


def test_a_bad_query_is_caught(prometheus):
    url, _, _ = prometheus
    errors = parse_errors(url, ["sum(rate(locust_requests_total[1m])", "locust_users"])
    assert len(errors) == 1 and "parse error" in errors[0]


def test_queries_without_needs_return_data_after_a_run(prometheus):
    url, start, end = prometheus
    source = PrometheusSource(url)
    empty = [
        f"{q.dashboard} / {q.panel}: {q.expr}"
        for q in queries(range_s=end - start, scenario="test5", dyno="web.1")
        if not q.needs and not source.instant(q.expr, end)
    ]
    assert empty == [], "panels that should show data after any run returned none"


def test_queries_mark_what_they_need():
    needs = {(q.panel, need) for q in queries() for need in q.needs}
    assert ("Firing alerts", "failures") in needs
    assert ("Requests per minute over time", "recording_rules") in needs
    assert all(q.expr.count("$") == q.expr.count("${1}") for q in queries()), (
        "a Grafana variable was left in a plain PromQL expression"
    )
