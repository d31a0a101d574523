"""The seed's symptoms, reproduced end to end at the default scale in short runs.

Each run is real: the capped embedded PostgreSQL, the server set-up as dynos, Caddy as the
router, a Prometheus evaluating the repo's rules with shortened windows, and Locust.
"""

import json
import math
import statistics
import urllib.parse
import urllib.request

from dashboards.checks import empty_queries
from dashboards.panels import DRAIN, ROUTER, ROUTER_PANELS, RULES, WAITRESS
from loadtests import compose
from loadtests.dyno_cpu import MAX_CORES, MIN_CORES
from loadtests.prometheus import SCRAPE_INTERVAL_S
from loadtests.sampler import max_db_connections, read_samples
from loadtests.scenarios import HEROKU_HOBBY_MAX_CONNECTIONS
from loadtests.summary import held_back_by_machine
from tests.conftest import prometheus_over
from tests.loadtests.helpers import (
    assert_exporter_matches_locust,
    assert_router_matches_locust,
    report_series,
    run_scenario,
)
from tests.loadtests.signals import FOR_S, STEP_S, signals_held

# Grafana's $__rate_interval for a run's report: four of its 2 s scrapes (the step, 1 s for a
# run under four minutes, plus one scrape is less).
RATE_INTERVAL_S = 4 * SCRAPE_INTERVAL_S


def test_test1_every_response_is_400_and_bad_request_surge_fires(runs_root):
    run_dir, summary = run_scenario(runs_root, "1", 40)
    assert summary["requests"] > 0
    assert summary["errors"].get("http_400", 0) >= 0.99 * summary["requests"], summary["errors"]
    assert "BadRequestSurge" in summary["alerts_fired"]
    text = (run_dir / "summary.txt").read_text()
    assert "main errors: http_400" in text and "runbooks/BadRequestSurge.md" in text
    assert_exporter_matches_locust(summary)


def test_test5_on_two_locust_workers_has_no_errors_no_alerts_and_the_expected_totals(
    runs_root,
):
    # Half the seed's users: this test is about distributed Locust's totals and the panels,
    # and at the full load a dyno's share is 60% used, so a slow spell of this shared host
    # (a request's CPU rose from 0.7 to 1.3 ms in one CI run) saturated it. The seed's load
    # itself is in the results table (`python -m loadtests results`).
    run_dir, summary = run_scenario(runs_root, "5", 30, "--workers", "2", "--users", "2500")
    assert summary["error_rate"] == 0, summary["error_messages"]
    assert summary["alerts_fired"] == [], summary["alerts"]
    # The totals' shape matches one process's: each user asks every 15 s, starting at a
    # random point of its first period, so a 30 s run gives about two requests per user.
    expected = summary["users"] * summary["duration_s"] / 15
    assert 0.75 * expected <= summary["requests"] <= 1.25 * expected, summary["requests"]
    assert_exporter_matches_locust(summary)
    # The app's own time is part of what Locust waited for each request, never more.
    assert 0 < summary["app_ms_per_request"] < summary["avg_ms"], summary
    assert (
        f"in the app: {summary['app_ms_per_request']:.1f} ms"
        in (run_dir / "summary.txt").read_text()
    )
    # Every worker's last report reached the master: the router logged what Locust counted,
    # give or take the requests in flight when the users stopped (some ms each at this load).
    assert -0.005 * summary["requests"] <= summary["router"]["locust_minus_router"] <= 0
    assert (run_dir / "locust-worker-2.out").exists()
    assert "2 workers" in (run_dir / "locust.log").read_text()
    with prometheus_over(run_dir / "prometheus") as url:
        per_minute = report_series(url, summary, "Requests per minute over time")
        (users,) = report_series(url, summary, "Users over time")
        # Every dashboard panel whose sources a local run has (the app, Locust, the rules,
        # the router's stamps) shows data for this run, read back from the run's Prometheus,
        # as Grafana drew it in the load's last seconds: by `ended` Locust and its exporter
        # have exited, and Prometheus has marked their gauges stale.
        at = summary["started"] + summary["duration_s"] - SCRAPE_INTERVAL_S
        empty = empty_queries(
            url,
            at,
            at - summary["started"],
            scenario="test5",
            available=frozenset({RULES, ROUTER, WAITRESS}),
        )
    # The report's rates use Grafana's $__rate_interval over the run's 2 s scrapes (8 s), so
    # after the ramp the steady load draws flat at the summary's rate at full load (from when
    # every user had started to the end; its requests/min averages the ramp in, 7.5% lower by
    # construction), itself the rate the users ask for. Over the fixed 1m they used, the line
    # climbed from 0 for the whole run (to 4,652 at the end of one such run, against 10,360
    # here). Medians, as a worker's 3 s reports against 2 s scrapes put one report more or less
    # in a window now and then (7,271 to 11,447).
    ((_, points),) = per_minute
    at_full = [t for t, value in users[1] if value == summary["users"]]
    steady = [
        value
        for t, value in points
        if at_full[0] + RATE_INTERVAL_S <= t <= at_full[-1] and math.isfinite(value)
    ]
    assert len(steady) >= 10, (at_full, points)
    full_load = summary["full_load_requests_per_minute"]
    offered = summary["offered_requests_per_minute"]
    assert abs(full_load - offered) <= 0.1 * offered, (full_load, offered)
    halves = [
        statistics.median(half) for half in (steady[: len(steady) // 2], steady[len(steady) // 2 :])
    ]
    assert all(abs(half - full_load) <= 0.1 * full_load for half in halves), (full_load, steady)
    assert f"at full load {full_load:,}" in " ".join((run_dir / "summary.txt").read_text().split())
    assert [(q.dashboard, q.panel, q.expr) for q in empty] == []


def test_test4_runs_out_of_database_connections_and_says_where_to_read(runs_root):
    # At the seed's 5,000 users the dyno uses about 70% of its CPU share, and whether its
    # stalls pile up enough router connections (each a greenlet holding a database
    # connection) to pass 20 is chance: 18% to 61% errors seen, and 0.1% in one CI run whose
    # dyno never reached its limit. At 7,500 the share is used up, requests pile up every
    # run, and the errors came to 71% in each of three runs (the seed saw 90%).
    run_dir, summary = run_scenario(runs_root, "4", 40, "--users", "7500")
    assert summary["error_rate"] >= 0.3, summary["errors"]
    assert summary["server_log_signs"].get("sorry, too many clients already", 0) > 0
    samples = read_samples(run_dir / "samples.jsonl")
    assert max_db_connections(samples) >= HEROKU_HOBBY_MAX_CONNECTIONS
    # gunicorn's saturation beside Waitress's: the gevent worker's 1,000 slots, and the
    # listen backlog read from its socket, on every sample.
    gunicorn = [s["metrics"] for s in samples if "gunicorn_requests_limit" in s["metrics"]]
    assert len(gunicorn) == len(samples)
    assert {m["gunicorn_requests_limit"] for m in gunicorn} == {1000}
    assert all("listen_queue_depth" in m and m["gunicorn_workers"] == 1 for m in gunicorn)
    assert {"DatabaseConnectionsNearLimit", "DatabaseConnectionErrors"} <= set(
        summary["alerts_fired"]
    )
    text = (run_dir / "summary.txt").read_text()
    assert "runbooks/DatabaseConnectionsNearLimit.md" in text
    assert "runbooks/DatabaseConnectionErrors.md" in text
    assert_exporter_matches_locust(summary)


def test_one_capped_dyno_saturates_with_alerts_in_order_and_a_second_dyno_serves_more(
    runs_root,
):
    # Queueing builds up over the run: 90 s gives both alerts time to pass their `for:`.
    run_dir, six = run_scenario(runs_root, "6", 90)
    assert_exporter_matches_locust(six)
    assert six["dyno_cpu"]["sized_to_host"], six["dyno_cpu"]
    assert MIN_CORES <= six["dyno_cpu"]["cores"] <= MAX_CORES, six["dyno_cpu"]
    # The dyno ran short of CPU, and the summary says of which: its share (at the quota most
    # of the load) or, on a busy host, the machine (other processes on the cores left it
    # less than its share while requests queued), with a warning.
    at_quota = six["dyno_cpu"]["dynos"]["web.1"]["held_share"] > 0.5
    assert at_quota or held_back_by_machine(six) == ["web.1"], (six["dyno_cpu"], six["avg_ms"])
    # Which alerts fire, and when, follows from the signals the run had, read back from its
    # own Prometheus: on a quiet machine the saturated dyno queues first and RequestQueueing
    # (the shorter `for:`) leads HighLatency. On a busy one the users' latency can rise while
    # the queue stays short (Locust starved more than the dyno: HighLatency alone is right),
    # or Locust, too starved to answer its scrapes, offers the dyno less than it serves
    # (seen here: 50 requests/s, the router's service 63 ms, no alert is right). What the
    # rules guarantee is checked instead of one order.
    alerts = {alert["name"]: alert for alert in six["alerts"]}
    with prometheus_over(run_dir / "prometheus") as url:
        for name, held in signals_held(url, six["started"], six["ended"]).items():
            # An alert fires once its condition has held for its `for:`, never before ...
            if name in alerts:
                fired = alerts[name]
                assert fired["firing_at"] - fired["active_at"] >= FOR_S[name] - STEP_S, fired
            # ... and always when it has, within two evaluations.
            if held is not None:
                assert name in alerts, (name, held, six["alerts"])
                assert alerts[name]["firing_at"] <= held + 2 * STEP_S, (held, alerts[name])

    # The seed's test 7: the same users on two dynos, each with its own share of CPU, exposed
    # to a compose stack's Grafana (--grafana) as a user watching it would run it.
    run_dir, seven = run_scenario(runs_root, "7", 35, "--grafana")
    assert seven["users"] == six["users"]
    assert_routers_view_and_exposure(run_dir, seven)
    assert seven["comparison"]["with_test"] == "6", seven["comparison"]
    # Both set-ups cost the same CPU per request: the second dyno adds CPU, not efficiency.
    per_request = [s["dyno_cpu"]["ms_per_request"] for s in (six, seven)]
    assert all(0 < ms < 10 for ms in per_request), per_request
    # A second share of CPU serves more, when the machine gave the dynos their shares; when it
    # did not, a second dyno adds no CPU, and the summaries say so (checked above for test 6).
    if held_back_by_machine(six) or held_back_by_machine(seven):
        return
    # Served, not asked: past the router's cap of requests in flight the one dyno's surplus
    # got quick H11s, which count as requests too.
    served = "served_requests_per_minute"
    assert seven[served] > 1.1 * six[served], (six, seven)
    # The seed: 9 s -> 215 ms. Here 12.0 s -> 4 ms with the share sized to the machine. With
    # a fixed 0.35 of a core, a fast spell of this shared host (a request at 0.55 ms of CPU)
    # left test 6 at 1.4 s and test 7 only 3% more to serve, and a slow one (a request's CPU
    # up by half) 17.7 s -> 1.8 s.
    assert seven["avg_ms"] < six["avg_ms"] / 5, (six["avg_ms"], seven["avg_ms"])


def assert_routers_view_and_exposure(run_dir, summary: dict) -> None:
    """A local run's router view (Caddy through the local Logplex) of both dynos, and what
    --grafana exposes: the dynos, the exporter and the run's drain receiver on the fixed ports,
    on the Docker bridge's address (loopback where there is none), listed for the compose
    stack's Prometheus in targets files of the run's own, which it removes at the end."""
    assert not list(compose.TARGETS_DIR.glob("run-*.json"))
    listen, _ = compose.listen_address()
    assert_router_matches_locust(summary)
    seen = summary["router"]
    assert seen["source"] == "local"
    assert set(seen["by_dyno"]) == {"web.1", "web.2"} and min(seen["by_dyno"].values()) > 0, seen
    assert sum(seen["by_dyno"].values()) == seen["requests"], seen
    assert 0 <= seen["service_avg_ms"] <= summary["max_ms"], seen
    assert seen["local_logplex"]["lines"] >= seen["requests"], seen
    text = (run_dir / "summary.txt").read_text()
    assert f"router (Caddy through the local Logplex): {seen['requests']:,} requests" in text
    # The run's Prometheus scraped the receiver as job drain: the Heroku dashboard's router
    # panels have data for this run.
    routers = {panel.title for panel in ROUTER_PANELS}
    with prometheus_over(run_dir / "prometheus") as url:
        empty = empty_queries(
            url,
            summary["ended"],
            summary["ended"] - summary["started"],
            available=frozenset({DRAIN}),
        )
        scraped = query(url, "up", summary["ended"])
    assert [(q.panel, q.expr) for q in empty if q.panel in routers] == []
    instances = {(m["metric"]["job"], m["metric"]["instance"]) for m in scraped}
    assert {("drain", f"{listen}:8088"), ("app", f"{listen}:8000"), ("app", f"{listen}:8001")} <= (
        instances
    ), instances


def query(url: str, expr: str, at: float) -> list[dict]:
    params = urllib.parse.urlencode({"query": expr, "time": at})
    with urllib.request.urlopen(f"{url}/api/v1/query?{params}", timeout=10) as answer:
        return json.load(answer)["data"]["result"]
