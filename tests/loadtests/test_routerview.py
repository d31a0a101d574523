"""The router's view: the quantile from buckets, Caddy's failures as Heroku's codes through the
local Logplex and a real receiver, a local run of test 7 and a `--host ... --drain` run.

Every part is real: Caddy, `python -m metrics.drain`, Waitress, Locust, Prometheus.
"""

import contextlib
import http.server
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from dashboards.checks import empty_queries
from dashboards.panels import DRAIN, ROUTER_PANELS
from loadtests import compose, logplex, router, routerview
from loadtests.processes import free_port
from tests.conftest import prometheus_over
from tests.loadtests.helpers import assert_router_matches_locust, cli, run_scenario

INF = float("inf")


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        (0.05, 0.05),  # in the lowest bucket: from 0 to 0.1, 5 of its 10
        (0.5, 0.42),  # rank 50 in (0.1, 0.5]: 40 of its 50 observations
        (0.9, 1.0),  # rank 90: exactly the top of (0.5, 1]
        (0.95, 1.0),  # rank 95 falls in +Inf: the highest finite bound
    ],
)
def test_histogram_quantile_interpolates_as_promql(q, expected):
    buckets = [(0.1, 10), (0.5, 60), (1.0, 90), (INF, 100)]
    assert routerview.histogram_quantile(q, buckets) == pytest.approx(expected)


def test_histogram_quantile_gives_none_where_promql_gives_nan_and_forces_monotonic_counts():
    assert routerview.histogram_quantile(0.95, [(0.1, 0), (INF, 0)]) is None  # no observations
    assert routerview.histogram_quantile(0.95, [(0.1, 3), (1.0, 5)]) is None  # no +Inf
    assert routerview.histogram_quantile(0.95, [(INF, 5)]) is None  # one bucket
    # A count below its predecessor's is raised to it, and the order given does not matter.
    buckets = [(INF, 10), (1.0, 4), (0.5, 8)]
    assert routerview.histogram_quantile(0.5, buckets) == pytest.approx(0.3125)


class SlowOrClosing(http.server.BaseHTTPRequestHandler):
    """A dyno that answers `/`, takes 2 s on /slow and closes the connection on /close."""

    protocol_version = "HTTP/1.1"

    def do_GET(self):  # noqa: N802 - http.server's name
        if self.path == "/close":
            self.close_connection = True
            return
        if self.path == "/slow":
            time.sleep(2)
        body = b"x" * 140
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # the router gave up on /slow first: writing the late answer fails, as it should


def status_of(url: str, timeout: float = 10) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None  # the client gave up


def test_caddys_timeout_closed_connection_and_gone_client_reach_the_drain_as_h12_h13_h27(
    tmp_path,
):
    dyno = QuietServer(("127.0.0.1", 0), SlowOrClosing)
    threading.Thread(target=dyno.serve_forever, daemon=True).start()
    upstream = f"127.0.0.1:{dyno.server_address[1]}"
    port = free_port()
    with contextlib.ExitStack() as stack:
        stack.callback(dyno.shutdown)
        # Heroku's 30 s H12 timeout, shortened so the test makes one in a second.
        caddy = router.start(tmp_path, port, [upstream], "127.0.0.1", response_header_timeout="1s")
        stack.callback(caddy.stop)
        url = f"http://127.0.0.1:{port}"
        caddy.wait_until_http_ok(url)  # one 200
        drain = logplex.start(stack, tmp_path, tmp_path / router.ACCESS_LOG, {upstream: "web.1"})
        assert status_of(f"{url}/") == 200
        assert status_of(f"{url}/slow") == 503  # H12
        assert status_of(f"{url}/close") == 503  # H13
        assert status_of(f"{url}/slow", timeout=0.3) is None  # H27: the user left
        drain.logplex.flush()
        reading = routerview.read(drain.metrics_url)

    seen = routerview.view({}, reading)
    assert seen["by_status_class"] == {"2xx": 2, "4xx": 1, "5xx": 2}, seen
    assert seen["codes"] == {"H12": 1, "H13": 1, "H27": 1}, seen
    assert seen["by_dyno"] == {"web.1": 5}, seen
    # The H12's `service` is the second the router waited; the others took well under half.
    bucket = "heroku_router_service_seconds_bucket"
    assert reading[(bucket, (("dyno", "web.1"), ("le", "0.5")))] == 4, reading
    assert reading[(bucket, (("dyno", "web.1"), ("le", "+Inf")))] == 5, reading
    assert reading[("heroku_router_service_seconds_sum", (("dyno", "web.1"),))] >= 1.0, reading


def test_test7_local_run_has_the_routers_view_of_locusts_requests_on_both_dynos(runs_root):
    # --grafana: the dynos, the exporter and the run's drain receiver on the fixed ports, on the
    # Docker bridge's address (loopback where there is none), listed for the compose stack's
    # Prometheus in targets files of the run's own, which it removes at the end.
    run_dir, summary = run_scenario(runs_root, "7", 10, "--users", "300", "--grafana")
    assert not list(compose.TARGETS_DIR.glob("run-*.json"))
    listen, _ = compose.listen_address()
    assert summary["error_rate"] == 0, summary["error_messages"]
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


def test_host_run_with_drain_reads_the_routers_view_from_the_receiver(app_url, tmp_path):
    # A Heroku app in miniature: the app behind a router whose log reaches a drain receiver
    # through a Logplex; the run starts none of it and reads the receiver with --drain.
    upstream = app_url.removeprefix("http://")
    port = free_port()
    with contextlib.ExitStack() as stack:
        caddy = router.start(tmp_path, port, [upstream], "127.0.0.1")
        stack.callback(caddy.stop)
        host = f"http://127.0.0.1:{port}"
        caddy.wait_until_http_ok(host)
        drain = logplex.start(stack, tmp_path, tmp_path / router.ACCESS_LOG, {upstream: "web.1"})
        runs = tmp_path / "runs"
        done = cli(
            "run", "--test", "5", "--users", "20", "--duration", "10", "--host", host,
            "--drain", drain.metrics_url, "--runs-dir", str(runs),
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    (run_dir,) = runs.iterdir()
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["requests"] > 0 and summary["error_rate"] == 0, summary["error_messages"]
    assert_router_matches_locust(summary)
    seen = summary["router"]
    assert seen["source"] == "heroku" and seen["drain_url"] == drain.metrics_url, seen
    assert seen["by_dyno"] == {"web.1": seen["requests"]}, seen
    assert "local_logplex" not in seen, seen
    assert f"router (Heroku drain): {seen['requests']:,} requests" in done.stdout
