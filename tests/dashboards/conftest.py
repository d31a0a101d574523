"""A real short "load run" for the dashboard tests: two real prometheus_client HTTP servers on
loopback exposing the app's (with the Redis page cache) and the Locust exporter's metric names
with moving values, the real log-drain receiver (`python -m metrics.drain`) fed the drain
tests' batch of real-format Heroku lines every second, and a real Prometheus (Debian's binary,
empty tsdb in a tmp dir) scraping all three every second."""

import math
import random
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Info,
    ProcessCollector,
    start_http_server,
)

from app.process import ROOT, free_port, stop, wait_for_http
from dashboards.panels import CACHE, DRAIN, RULES, TLS, WAITRESS
from dashboards.sources import PrometheusSource
from metrics.drain.frames import frame
from tests.conftest import require_binary
from tests.drain.helpers import Receiver, fixture_messages

SCRAPE_SECONDS = 1
RUN_SECONDS = 8  # scrapes enough for [1m] rates to have several points
SCENARIO = "test5"
RULES_DIR = Path(__file__).resolve().parents[2] / "metrics" / "rules"  # the repo's own rules
# What the run below provides beyond the scrapes: those rules, the app's Redis page cache
# series, a drain receiver fed Heroku lines, and Waitress's series (the app as app.serve
# runs it).
RUN_PROVIDES = frozenset({RULES, CACHE, DRAIN, TLS, WAITRESS})


class FakeRun:
    """The app's and the load generator's metrics, moving like a small healthy test 5."""

    def __init__(self):
        self.app = CollectorRegistry()
        self.locust = CollectorRegistry()
        self._app_metrics()
        self._locust_metrics()
        self.stop = threading.Event()

    def _app_metrics(self):
        r = self.app
        Info("app", "App process", registry=r).info({"dyno": "web.1"})
        # The process series the app's default registry carries (the Dyno CPU panel): this
        # test process's own, moving with its real CPU time.
        ProcessCollector(registry=r)
        self.latency = Histogram(
            "django_http_requests_latency_seconds_by_view_method",
            "Latency",
            ["view", "method"],
            registry=r,
        )
        self.responses = Counter(
            "django_http_responses_total_by_status_view_method",
            "Responses",
            ["status", "view", "method"],
            registry=r,
        )
        self.new_connections = Counter(
            "django_db_new_connections", "New connections", ["alias", "vendor"], registry=r
        )
        self.connection_errors = Counter(
            "django_db_new_connection_errors", "Connection errors", ["alias", "vendor"], registry=r
        )
        self.queue_time = Histogram("http_request_queue_seconds", "Router queue time", registry=r)
        self.gauges = {
            name: Gauge(name, name, registry=r)
            for name in (
                "waitress_threads",
                "waitress_threads_busy",
                "waitress_queue_depth",
                "waitress_connections",
                "waitress_connection_limit",
                "listen_queue_depth",
                "listen_queue_limit",
                "django_db_connections_open",
                "pg_settings_max_connections",
                "pg_up",
            )
        }
        self.activity = Gauge(
            "pg_stat_activity_count", "Connections", ["datname", "state"], registry=r
        )
        # The Redis page cache (REDIS_URL set): django-prometheus's cache counters, and the
        # app's fallbacks, created at 0 for both reasons as app/content/page_cache.py does.
        self.cache = {
            name: Counter(name, name, ["backend"], registry=r)
            for name in ("django_cache_get", "django_cache_get_hits", "django_cache_get_misses")
        }
        self.fallbacks = Counter("page_cache_fallbacks", "Fallbacks", ["reason"], registry=r)
        for reason in ("error", "skipped"):
            self.fallbacks.labels(reason)

    def _locust_metrics(self):
        r = self.locust
        self.users = Gauge("locust_users", "Users", ["scenario"], registry=r)
        self.requests = Counter("locust_requests", "Requests", ["scenario"], registry=r)
        self.failures = Counter("locust_failures", "Failures", ["scenario", "kind"], registry=r)
        self.duration = Histogram(
            "locust_request_duration_seconds",
            "Response time",
            ["scenario"],
            registry=r,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
        )
        self.duration_max = Gauge(
            "locust_request_duration_max_seconds", "Max", ["scenario"], registry=r
        )
        self.cpu = Gauge("locust_cpu_usage_ratio", "CPU", ["scenario"], registry=r)

    def tick(self, elapsed: float):
        wave = 0.5 + 0.5 * math.sin(elapsed)
        g = self.gauges
        g["waitress_threads"].set(8)
        g["waitress_threads_busy"].set(round(8 * wave))
        g["waitress_queue_depth"].set(round(5 * wave))
        g["waitress_connections"].set(20 + round(30 * wave))
        g["waitress_connection_limit"].set(100)
        g["listen_queue_depth"].set(round(3 * wave))
        g["listen_queue_limit"].set(1024)
        g["django_db_connections_open"].set(3 + round(5 * wave))
        g["pg_settings_max_connections"].set(20)
        g["pg_up"].set(1)
        self.activity.labels("cce", "active").set(1 + round(6 * wave))
        self.activity.labels("cce", "idle").set(3)
        self.users.labels(SCENARIO).set(min(500, 100 * (elapsed + 1)))
        self.cpu.labels(SCENARIO).set(0.3 + 0.4 * wave)
        self.duration_max.labels(SCENARIO).set(0.2 + wave)
        self.new_connections.labels("default", "postgresql").inc()
        self.connection_errors.labels("default", "postgresql")  # exported at 0, like the app
        for _ in range(20):
            seconds = random.uniform(0.01, 0.3)
            self.latency.labels("index", "GET").observe(seconds)
            self.responses.labels("200", "index", "GET").inc()
            self.queue_time.observe(seconds / 10)
            self.cache["django_cache_get"].labels("redis").inc()
            self.cache["django_cache_get_hits"].labels("redis").inc()
            self.requests.labels(SCENARIO).inc()
            self.duration.labels(SCENARIO).observe(seconds)
        self.responses.labels("400", "<unnamed view>", "GET").inc()
        self.cache["django_cache_get"].labels("redis").inc()
        self.cache["django_cache_get_misses"].labels("redis").inc()
        self.failures.labels(SCENARIO, "http_400").inc()

    def run(self):
        began = time.monotonic()
        while not self.stop.wait(0.2):
            self.tick(time.monotonic() - began)


def _wait_ready(url: str, process: subprocess.Popen, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"prometheus exited with {process.returncode}: {process.stderr.read()}")
        try:
            with urllib.request.urlopen(f"{url}/-/ready", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    pytest.fail(f"prometheus at {url} not ready after {timeout} s")


@pytest.fixture(scope="session")
def chromium() -> str:
    return require_binary("chromium", "chromium")


@pytest.fixture(scope="session")
def docker_compose() -> str:
    return require_binary("docker-compose", "docker-compose")


@pytest.fixture(scope="session")
def fake_run():
    run = FakeRun()
    run.tick(0)
    app_server, _ = start_http_server(0, addr="127.0.0.1", registry=run.app)
    locust_server, _ = start_http_server(0, addr="127.0.0.1", registry=run.locust)
    run.app_url = f"http://127.0.0.1:{app_server.server_port}"
    run.locust_url = f"http://127.0.0.1:{locust_server.server_port}"
    feeder = threading.Thread(target=run.run, daemon=True)
    feeder.start()
    yield run
    run.stop.set()
    feeder.join()
    app_server.shutdown()
    locust_server.shutdown()


@pytest.fixture(scope="session")
def drain(tmp_path_factory):
    """The real receiver as `make drain` runs it (no auth: loopback replay), with a 20-connection
    Heroku Postgres plan, posted the drain tests' fixture batch every second under a new frame
    id, so its counters move: the receiver's URL."""
    port = free_port()
    log = tmp_path_factory.mktemp("drain") / "drain.log"
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "metrics.drain", "--insecure-no-auth", "--port", str(port),
             "--pg-max-connections", "20"],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=stderr,
        )  # fmt: skip
    receiver = Receiver(port)
    body = b"".join(frame(message) for message in fixture_messages())
    posting = threading.Event()

    def feed():
        # A refused batch shows up as a router request rate of 0, which test_queries checks.
        while not posting.wait(1.0):
            receiver.post(body, frame_id=uuid.uuid4().hex, auth=None)

    try:
        wait_for_http(f"{receiver.url}/healthz", process)
        status = receiver.post(body, frame_id=uuid.uuid4().hex, auth=None)
        assert status == 204, f"the receiver answered {status}: {log.read_text()}"
        feeder = threading.Thread(target=feed, daemon=True)
        feeder.start()
        yield receiver.url
        posting.set()
        feeder.join()
    finally:
        stop(process)


@pytest.fixture(scope="session")
def prometheus(fake_run, drain, tmp_path_factory):
    """A real Prometheus with the repo's rules that scraped the fake run and the drain receiver
    for RUN_SECONDS: (url, start, end)."""
    binary = require_binary("prometheus", "prometheus")
    folder: Path = tmp_path_factory.mktemp("prometheus")
    app_target = fake_run.app_url.removeprefix("http://")
    locust_target = fake_run.locust_url.removeprefix("http://")
    drain_target = drain.removeprefix("http://")
    (folder / "prometheus.yml").write_text(
        f"global: {{scrape_interval: {SCRAPE_SECONDS}s, evaluation_interval: {SCRAPE_SECONDS}s}}\n"
        f"rule_files: ['{RULES_DIR}/*.yml']\n"
        "scrape_configs:\n"
        "  - job_name: app\n"
        f"    static_configs: [{{targets: ['{app_target}'], labels: {{dyno: web.1}}}}]\n"
        "  - job_name: locust\n"
        f"    static_configs: [{{targets: ['{locust_target}']}}]\n"
        "  - job_name: drain\n"
        f"    static_configs: [{{targets: ['{drain_target}']}}]\n",
        encoding="utf-8",
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={folder / 'prometheus.yml'}",
            f"--storage.tsdb.path={folder / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_ready(url, process)
        start = time.time()
        source = PrometheusSource(url)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            scraped = source.instant("count_over_time(locust_users[1m])", time.time())
            if scraped and scraped[0][1] >= RUN_SECONDS / SCRAPE_SECONDS:
                break
            time.sleep(0.5)
        else:
            pytest.fail("prometheus did not scrape the fake run within 60 s")
        yield url, start, time.time()
    finally:
        process.terminate()
        process.wait(timeout=30)
        process.stderr.close()
