"""Every panel's PromQL against a real Prometheus: it parses, and it returns data after a run."""

import time

import pytest

from dashboards.checks import empty_queries, rejected_queries
from dashboards.grafana import RUN_ANNOTATION_EXPR
from dashboards.panels import FAILURES, RULES, queries


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
        url, end, end - start, scenario="test5", dyno="web.1", available=frozenset({RULES})
    )
    assert [f"{q.dashboard} / {q.panel}: {q.expr}" for q in empty] == []


def test_an_empty_query_is_caught(prometheus):
    """No alert fires and no query fails in the fake run: claiming failures must show it."""
    url, start, end = prometheus
    empty = empty_queries(url, end, end - start, available=frozenset({RULES, FAILURES}))
    assert {q.panel for q in empty} == {"Firing alerts", "Database connection errors"}


def test_queries_mark_what_they_need():
    needs = {(q.panel, need) for q in queries() for need in q.needs}
    assert ("Firing alerts", FAILURES) in needs
    assert ("Requests per minute over time", RULES) in needs
    assert all(q.expr.count("$") == q.expr.count("${1}") for q in queries()), (
        "a Grafana variable was left in a plain PromQL expression"
    )
