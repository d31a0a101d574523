"""The kit's app under real gunicorn with `-c python:dyno_metrics.gunicorn`: gthread and gevent
workers count right on every scrape, and a worker that dies leaves the live sums but not
the counters. (Sync workers, on a project the kit did not write: test_fresh_project.py.)"""

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from app.process import ROOT, free_port, stop
from tests.metrics.l2met_log import DYNO, newest
from tests.metrics.scrape import parse, total

WORKERS = 2
REQUESTS = 40
PAGE = "django_http_responses_total_by_status_view_method_total"


# DYNO set, as Heroku sets it: the arbiter logs the dyno's l2met line (every 0.1 s here),
# and the app wants what Heroku needs.
AS_ON_HEROKU = {
    "DYNO": DYNO,
    "METRICS_LOG_INTERVAL": "0.1",
    "SECRET_KEY": "test-only",
    "ALLOWED_HOSTS": "127.0.0.1",
    "METRICS_PUBLIC": "on",
}


@contextmanager
def gunicorn(database_url: str, log: Path, *options: str):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROMETHEUS_")}
    with open(log, "w") as out:
        server = subprocess.Popen(
            [str(Path(sys.executable).with_name("gunicorn")), "app.wsgi",
             "-c", "python:dyno_metrics.gunicorn", "--bind", f"127.0.0.1:{port}",
             "--workers", str(WORKERS), *options],
            cwd=ROOT, env={**env, **AS_ON_HEROKU, "DATABASE_URL": database_url}, stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        until(lambda: total(scrape(base), "gunicorn_workers") == WORKERS, log)
        yield base, server
    finally:
        stop(server, timeout=30)


def until(condition, log: Path, timeout: float = 120) -> None:
    """Until condition() holds; every worker imports the app on start, slow on a busy host."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise AssertionError(f"not reached within {timeout} s; gunicorn: {log.read_text()[-2000:]}")


def scrape(base: str) -> dict:
    # Generous: a busy 2-core CI machine has taken seconds to answer.
    return parse(requests.get(f"{base}/metrics", timeout=60).text)


def workers_of(server: subprocess.Popen) -> list[int]:
    with open(f"/proc/{server.pid}/task/{server.pid}/children") as children:
        return [int(pid) for pid in children.read().split()]


def send_pages(base: str) -> None:
    with ThreadPoolExecutor(8) as pool:
        statuses = list(
            pool.map(lambda _: requests.get(base, timeout=60).status_code, range(REQUESTS))
        )
    assert statuses == [200] * REQUESTS


@pytest.mark.parametrize(
    "options,slots",
    [
        (("-k", "gthread", "--threads", "4"), 4),
        (("-k", "gevent", "--worker-connections", "50"), 50),
    ],
    ids=["gthread", "gevent"],
)
def test_every_scrape_sums_the_workers(seeded, tmp_path, options, slots):
    with gunicorn(seeded, tmp_path / "gunicorn.log", *options) as (base, _):
        send_pages(base)
        # A worker may still be in post_request when its client already has the response.
        log = tmp_path / "gunicorn.log"
        until(lambda: total(scrape(base), "gunicorn_requests_active") == 1, log)
        for _ in range(5):
            samples = scrape(base)
            assert total(samples, PAGE, view="random_snippet") == REQUESTS
            assert total(samples, "gunicorn_requests_limit") == WORKERS * slots
            assert total(samples, "gunicorn_requests_active") == 1  # this scrape
            assert [k for k in samples if k[0] == "pg_up"] == [("pg_up", frozenset())]
        assert total(samples, "django_db_connections_open") >= 1
        # The arbiter's line: the same live sums, with no scrape running.
        line = {
            "gunicorn_workers": WORKERS,
            "gunicorn_requests_active": 0,
            "gunicorn_requests_limit": WORKERS * slots,
            "listen_queue_depth": 0,
        }
        until(lambda: line.items() <= (newest(log) or {}).items(), log)
        # Open connections: what the workers last wrote, which is not what the last scrape
        # read. That scrape's own request wrote its worker's count, its own connection
        # included, and under gevent each request's connection closes with its greenlet,
        # which writes nothing: the line read 0 after a scrape of 1 in one CI run.
        assert 0 <= newest(log)["django_db_connections_open"] <= WORKERS * slots


def test_a_dead_worker_leaves_the_live_sums_and_its_counts_stay(seeded, tmp_path):
    log = tmp_path / "gunicorn.log"
    with gunicorn(seeded, log) as (base, server):
        send_pages(base)
        victim = workers_of(server)[0]
        os.kill(victim, signal.SIGKILL)
        # gunicorn forks a replacement; the dead worker's live gauges left with it.
        until(lambda: victim not in workers_of(server) and len(workers_of(server)) == WORKERS, log)
        until(lambda: total(scrape(base), "gunicorn_workers") == WORKERS, log)
        samples = scrape(base)
        assert total(samples, PAGE, view="random_snippet") == REQUESTS
        assert total(samples, "gunicorn_requests_limit") == WORKERS
        assert total(samples, "django_db_connections_open") <= WORKERS
        # The arbiter's line too: the dead worker's files went with child_exit.
        until(lambda: newest(log)["gunicorn_requests_limit"] == WORKERS, log)
