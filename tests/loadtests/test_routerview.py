"""The router's view: the quantile from buckets, Caddy's failures as Heroku's codes through the
local Logplex and a real receiver, and a `--host ... --drain` run (a local run's router view is
checked on test 7 in test_runs.py).

Every part is real: Caddy, `python -m metrics.drain`, Waitress, Locust, Prometheus.
"""

import concurrent.futures
import contextlib
import http.server
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from loadtests import logplex, router, routerview
from loadtests.processes import free_port
from tests.loadtests.helpers import PageDyno, assert_router_matches_locust, cli

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


class SlowOrClosing(PageDyno):
    """A dyno that answers `/`, takes 2 s on /slow and closes the connection on /close."""

    slow_started = threading.Event()

    def do_GET(self):  # noqa: N802 - http.server's name
        if self.path == "/close":
            self.close_connection = True
            return
        if self.path == "/slow":
            self.slow_started.set()
            time.sleep(2)
        self.answer_page()


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


def test_caddys_timeout_cap_closed_connection_and_gone_client_reach_the_drain_as_h_codes(
    tmp_path,
):
    dyno = QuietServer(("127.0.0.1", 0), SlowOrClosing)
    threading.Thread(target=dyno.serve_forever, daemon=True).start()
    upstream = f"127.0.0.1:{dyno.server_address[1]}"
    port = free_port()
    with contextlib.ExitStack() as stack:
        stack.callback(dyno.shutdown)
        # Heroku's 30 s H12 timeout, shortened so the test makes one in a second, and its cap
        # of requests in flight to a dyno lowered to one, so a second one at once gets H11.
        caddy = router.start(
            tmp_path, port, [upstream], "127.0.0.1", response_header_timeout="1s", max_in_flight=1
        )
        stack.callback(caddy.stop)
        url = f"http://127.0.0.1:{port}"
        caddy.wait_until_http_ok(url)  # one 200
        drain = logplex.start(stack, tmp_path, tmp_path / router.ACCESS_LOG, {upstream: "web.1"})
        assert status_of(f"{url}/") == 200
        SlowOrClosing.slow_started.clear()
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            slow = pool.submit(status_of, f"{url}/slow")
            assert SlowOrClosing.slow_started.wait(10), "the dyno never got /slow"
            assert status_of(f"{url}/") == 503  # H11: /slow holds the dyno's one slot
            assert slow.result() == 503  # H12
        assert status_of(f"{url}/close") == 503  # H13
        assert status_of(f"{url}/slow", timeout=0.3) is None  # H27: the user left
        drain.logplex.flush()
        reading = routerview.read(drain.metrics_url)

    seen = routerview.view({}, reading)
    assert seen["by_status_class"] == {"2xx": 2, "4xx": 1, "5xx": 3}, seen
    assert seen["codes"] == {"H11": 1, "H12": 1, "H13": 1, "H27": 1}, seen
    # The H11 never reached a dyno: its line names none, as Heroku's H11 lines do.
    assert seen["by_dyno"] == {"web.1": 5, "(none)": 1}, seen
    # The H12's `service` is the second the router waited; the others took well under half.
    bucket = "heroku_router_service_seconds_bucket"
    assert reading[(bucket, (("dyno", "web.1"), ("le", "0.5")))] == 4, reading
    assert reading[(bucket, (("dyno", "web.1"), ("le", "+Inf")))] == 5, reading
    assert reading[("heroku_router_service_seconds_sum", (("dyno", "web.1"),))] >= 1.0, reading


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
