"""The fixes, measured: the connection budget before a run (test 4 flagged, 4b passing), the
`make plan` command, Redis stopped in the middle of a short test 9, test 4 behind the run's
own PgBouncer (test 4b), and how the fixes table reads its runs."""

import contextlib
import json
import subprocess
import sys
import threading
import time

import psycopg2
import pytest
from django.conf import settings

from loadtests import fixes_results, scenarios
from loadtests.pgbouncer import POOL_SIZE, PgBouncer
from loadtests.preflight import host_budget, scenario_budget
from loadtests.processes import free_port
from loadtests.prometheus import RunPrometheus
from metrics.pgbouncer import serve
from tests.conftest import require_binary
from tests.loadtests.helpers import ROOT, cli, run_scenario


def test_the_budget_flags_test4_and_passes_4b():
    test4 = scenario_budget(scenarios.get("4"))
    assert not test4.fits
    assert test4.deployment.database_connections == 1001  # 1,000 greenlets + the collector
    assert "does not fit" in test4.line() and "PgBouncer" in test4.line()
    fixed = scenario_budget(scenarios.get("4b"))
    assert fixed.fits and fixed.deployment.database_connections == POOL_SIZE + 1
    assert fixed.line().endswith(": fits")
    assert scenario_budget(scenarios.get("9")).fits  # 2 x (8 threads + 1) = 18


def plan(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "loadtests.plan", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("args", "status", "says"),
    [
        (("--dynos", "2", "--threads", "8"), 0, "= 18 ≤ limit 20: fits"),
        (("--dynos", "4", "--threads", "5", "--limit", "20"), 1, "= 24 > limit 20: does not fit"),
        (("--dynos", "10", "--threads", "8", "--pool-size", "15"), 0, "15 server connections"),
        # Heroku's Django sample: 3 gunicorn workers × 5 threads, each process its collector.
        (("--dynos", "1", "--threads", "5", "--workers", "3"), 0, "= 18 ≤ limit 20: fits"),
        (("--dynos", "2", "--threads", "5", "--workers", "3"), 1, "= 36 > limit 20"),
        (("--dynos", "0", "--threads", "8"), 2, "argument --dynos: must be a whole number"),
        (("--threads", "8"), 2, "the following arguments are required: --dynos"),
    ],
)
def test_make_plan_answers_in_one_line_with_its_exit_status(args, status, says):
    done = plan(*args)
    output = (done.stdout + done.stderr).strip().splitlines()
    assert done.returncode == status, output
    assert len(output) == 1 and says in output[0], output


def test_make_plan_sizes_a_dyno_by_what_its_cpu_share_serves_never_by_offered_load(tmp_path):
    def run(name: str, rpm: int, cores: float | None, ms: float | None, sized=True, **more):
        (tmp_path / name).mkdir()
        cpu = {"cores": cores, "sized_to_host": sized, "ms_per_request": ms}
        summary = {
            "setup": "waitress", "dynos": 1, "error_rate": 0.0, "p95_ms": 40,
            "requests": 50_000, "requests_per_minute": rpm, "dyno_cpu": cpu,
        } | more  # fmt: skip
        (tmp_path / name / "summary.json").write_text(json.dumps(summary))

    # `make demo` alone: a light load (3,740 req/min) on a dyno that used a fraction of its
    # share says nothing of what the dyno could serve; its CPU per request does.
    run("demo", 3_740, 0.25, 0.6)  # 0.25 core / 0.6 ms = 25,000 req/min
    run("test6", 24_000, 0.25, 0.5)  # saturated: 30,000 req/min of CPU
    run("test7", 37_000, 0.25, 0.75, dynos=2)  # 20,000
    run("uncapped", 60_000, None, 0.4, sized=False)  # the laptop, not a dyno
    run("by-hand", 30_000, 0.5, 0.5, sized=False)  # another size of dyno
    run("gunicorn", 9_000, 0.25, 1.0, setup="gunicorn-sync")
    run("short", 500, 0.25, 5.0, requests=200)  # the scrapes' CPU more than requests'
    done = plan(
        "--dynos", "2", "--threads", "8", "--target-rpm", "60000", "--runs-dir", str(tmp_path)
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (
        "at 25,000 req/min per dyno (its CPU share over its CPU per request, median of 3 run(s))"
        in done.stdout
    )
    assert (
        "needs 3 dyno(s), more than the 2 the connection limit allows: add a pooler" in done.stdout
    )


def test_make_plan_counts_redis_connections_when_the_app_uses_the_cache():
    fits = plan("--dynos", "2", "--threads", "8", "--redis-limit", "20")
    assert (
        fits.returncode == 0
        and "redis budget: 2 dyno(s) × 8 connections = 16 ≤ limit 20" in fits.stdout
    )
    over = plan("--dynos", "2", "--threads", "5", "--workers", "3", "--redis-limit", "20")
    assert over.returncode == 1 and "= 30 > limit 20: does not fit" in over.stdout, over.stdout


def test_redis_stopped_mid_test9_falls_back_fires_the_alert_and_recovers(runs_root):
    # 3,000 users (200 req/s) keep the run short and the machine free; Redis is gone from
    # 12 s to 26 s of a 42 s load.
    run_dir, summary = run_scenario(
        runs_root, "9", 42, "--users", "3000", "--redis-outage", "12:26"
    )
    assert summary["error_rate"] == 0, summary["error_messages"]  # no 500s, nor anything else
    cache = summary["cache"]
    assert cache["fallbacks_error"] >= 1 and cache["fallbacks_skipped"] > 100, cache
    assert "PageCacheFailing" in summary["alerts_fired"], summary["alerts_fired"]
    outage = summary["redis_outage"]
    assert outage["stopped_at"] and outage["restarted_at"], outage
    # The same dynos, never restarted, use the cache again once Redis is back: no fallbacks,
    # and Redis came back empty, so every miss is one of the CACHE_SLOTS slots refilling (at
    # most once per dyno), far fewer than the hits.
    after = outage["after"]
    assert after["fallbacks_error"] + after["fallbacks_skipped"] == 0, after
    assert after["misses"] <= 2 * settings.CACHE_SLOTS, after
    assert after["hits"] > 2 * after["misses"], after
    assert "runbooks/PageCacheFailing.md" in (run_dir / "summary.txt").read_text()


def test_test4_behind_pgbouncer_has_no_errors_and_postgres_stays_within_the_pool(runs_root):
    run_dir, summary = run_scenario(runs_root, "4b", 25)
    assert summary["error_rate"] == 0, summary["error_messages"]
    assert "sorry, too many clients already" not in summary["server_log_signs"]
    # PostgreSQL's own count (the collector reads it directly): the pool and the collector.
    assert 1 <= summary["db_connections_max"] <= POOL_SIZE + 1, summary["db_connections_max"]
    pooler = summary["pooler"]
    assert 1 <= pooler["server_connections_max"] <= POOL_SIZE, pooler
    assert pooler["clients_active_max"] > POOL_SIZE, pooler  # many clients, few servers
    assert "DatabaseConnectionErrors" not in summary["alerts_fired"]
    text = (run_dir / "summary.txt").read_text()
    assert "connection budget: 1001 app connections to the pooler" in text
    assert "fits" in text


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--test", "4", "--redis-outage", "5:10"), "needs a test with a Redis cache"),
        (("--test", "9", "--redis-outage", "5"), "must be START:END in seconds"),
        (("--test", "9", "--redis-outage", "10:5"), "needs 0 <= START < END"),
        (("--test", "4b", "--dynos", "2"), "use them with --host"),
        (
            ("--test", "9", "--redis-outage", "5:10", "--host", "http://127.0.0.1:1"),
            "not with --host",
        ),
    ],
)
def test_bad_fix_options_are_one_line_and_status_2(args, says):
    done = cli("run", *args)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0], lines


def test_the_host_budget_uses_the_hints_or_says_it_is_skipped():
    assert "= 24 > limit 20: does not fit" in host_budget(4, 5, 20)
    assert "= 18 ≤ limit 20: fits" in host_budget(2, 8, 20)
    assert "skipped for --host" in host_budget(None, 8, 20)


def test_clients_waiting_in_pgbouncer_fire_pooler_clients_waiting(test_database_url, tmp_path):
    """A pool of one server connection, held in a transaction, and two clients waiting behind
    it: the pools exporter shows them and the FAST PoolerClientsWaiting fires."""
    require_binary("prometheus", "prometheus")
    with contextlib.ExitStack() as stack:
        bouncer = PgBouncer(tmp_path, test_database_url, pool_size=1)
        stack.callback(bouncer.stop)
        port = free_port()
        exporter = serve(bouncer.admin_url, port)
        stack.callback(exporter.server_close)
        stack.callback(exporter.shutdown)
        prom = RunPrometheus(
            tmp_path, ["127.0.0.1:1"], ["127.0.0.1:1"], {"pgbouncer": [f"127.0.0.1:{port}"]}
        )
        stack.callback(prom.stop)
        holder = psycopg2.connect(bouncer.url)
        stack.callback(holder.close)
        waiters = [threading.Thread(target=one_query, args=(bouncer.url,)) for _ in range(2)]
        for waiter in waiters:
            stack.callback(waiter.join, 30)
        # Runs first on the way out: frees the server connection, so the waiters finish.
        stack.callback(holder.rollback)
        holder.cursor().execute("SELECT 1")  # opens a transaction: the pool's one connection
        for waiter in waiters:
            waiter.start()
        firing = 'ALERTS{alertname="PoolerClientsWaiting", alertstate="firing"}'
        waiting = 'sum(pgbouncer_pools_client_waiting_connections{job="pgbouncer"})'
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not prom.scalar(firing, time.time()):
            time.sleep(1)
        assert prom.scalar(waiting, time.time()) == 2
        assert prom.scalar(firing, time.time()) == 1, "PoolerClientsWaiting did not fire in 60 s"


def one_query(url: str) -> None:
    with contextlib.closing(psycopg2.connect(url)) as connection:
        connection.cursor().execute("SELECT 1")


def test_the_fixes_table_reads_test_9_against_test_8_by_the_median_pair():
    def pair(eight_ms: float, nine_ms: float) -> tuple[dict, dict]:
        one = {"error_rate": 0.0, "db_queries_per_second": 1600.0, "app_ms_per_request": 7.0}
        return one | {"avg_ms": eight_ms}, one | {
            "avg_ms": nine_ms, "db_queries_per_second": 10.0, "app_ms_per_request": 4.5
        }  # fmt: skip

    outage = {
        "errors": {}, "alerts_fired": ["PageCacheFailing"],
        "cache": {"fallbacks_error": 3, "fallbacks_skipped": 900},
        "redis_outage": {"after": {"hit_ratio": 0.99}},
    }  # fmt: skip
    four = {"error_rate": 0.4, "server_log_signs": {"sorry, too many clients already": 8000}}
    fixed = {"error_rate": 0.0, "pooler": {"pool_size": 15}, "dynos": 1, "db_connections_max": 2}
    # One pair falls 20x, the other two 2x and 3x: the median pair decides.
    times = ((1000, 50), (800, 400), (900, 300))
    summaries = {"9, Redis stopped": outage, "4": four, "4b": fixed}
    for (eight, nine), ms in zip(fixes_results.PAIRS, times, strict=True):
        summaries[eight], summaries[nine] = pair(*ms)
    lines = fixes_results.checks(summaries)
    assert lines[0].startswith("- holds: test 9's database queries per second fall")
    assert lines[1].startswith("- holds: test 9 has no errors in any of 3 runs")
    assert lines[2] == (
        "- DOES NOT HOLD: test 9's average is over 10x below test 8's (/3.0, median of 3 pairs:"
        " /20.0, /2.0, /3.0; time in the app 7.0 ms -> 4.5 ms)"
    )
    assert all(line.startswith("- holds") for line in lines[3:]), lines
    summaries[fixes_results.PAIRS[1][1]]["error_rate"] = 0.01
    assert fixes_results.checks(summaries)[1].startswith("- DOES NOT HOLD: test 9 has no errors")
