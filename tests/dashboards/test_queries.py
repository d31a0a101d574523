"""Every panel's PromQL against a real Prometheus: it parses, and it returns data after a run."""

import time

import pytest

from dashboards.checks import empty_queries, rejected_queries
from dashboards.grafana import RUN_ANNOTATION_EXPR
from dashboards.panels import CACHE, DRAIN, FAILURES, RULES, queries
from dashboards.sources import PrometheusSource
from tests.dashboards.conftest import RUN_PROVIDES


@pytest.mark.parametrize("scenario,dyno", [(".*", ".*"), ("test5", "web.1")])
def test_every_panel_query_parses(prometheus, scenario, dyno):
    url, _, _ = prometheus
    exprs = [q.expr for q in queries(range_s=300, scenario=scenario, dyno=dyno)]
    assert rejected_queries(url, exprs + [RUN_ANNOTATION_EXPR], time.time()) == []


def test_a_bad_query_is_caught(prometheus):
    url, _, _ = prometheus
    errors = rejected_queries(url, ["sum(rate(locust_requests_total[1m])", "locust_users"], 0)
    assert len(errors) == 1 and "parse error" in errors[0]


def test_queries_return_data_after_a_run(prometheus):
    url, start, end = prometheus
    empty = empty_queries(
        url, end, end - start, scenario="test5", dyno="web.1", available=RUN_PROVIDES
    )
    assert [f"{q.dashboard} / {q.panel}: {q.expr}" for q in empty] == []
    dashboards = {q.dashboard for q in queries() if q.needs <= RUN_PROVIDES}
    assert dashboards == {"cce-loadtest", "cce-app", "cce-heroku"}


def test_drain_series_move_with_the_posted_batches(prometheus):
    """The drain's counters grow (each batch posted was read), so its rates are not all 0."""
    url, _, end = prometheus
    rates = PrometheusSource(url).instant(
        'sum by (dyno) (rate(heroku_router_requests_total{job="drain"}[1m]))', end
    )
    assert {labels.get("dyno", "") for labels, rate in rates if rate > 0} == {"", "web.1", "web.2"}


def test_an_empty_query_is_caught(prometheus):
    """No alert fires, no query and no cache read fails in the fake run: claiming failures
    must show it. The drain's batch does hold Heroku error codes and an R14, so those panels
    have data."""
    url, start, end = prometheus
    empty = empty_queries(url, end, end - start, available=RUN_PROVIDES | {FAILURES})
    assert {q.panel for q in empty} == {
        "Firing alerts",
        "Database connection errors",
        "Cache failures and database fallbacks",
        "Firing Heroku alerts",
    }


def test_queries_mark_what_they_need():
    needs = {(q.panel, need) for q in queries() for need in q.needs}
    assert ("Firing alerts", FAILURES) in needs
    assert ("Error rate and error kinds", RULES) in needs
    assert ("Cache hit ratio", CACHE) in needs
    heroku = [q for q in queries() if q.dashboard == "cce-heroku"]
    assert heroku and all(DRAIN in q.needs for q in heroku)
    assert all(DRAIN not in q.needs for q in queries() if q.dashboard != "cce-heroku")
    assert all(q.expr.count("$") == q.expr.count("${1}") for q in queries()), (
        "a Grafana variable was left in a plain PromQL expression"
    )
