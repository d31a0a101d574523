"""The compose stack's Prometheus (metrics/prometheus.yml with its rules and targets, paths
relative as the compose file mounts them) run for real with nothing else running: no target
down, no alert pending or firing, the Heroku job off. A --grafana run's targets files
(loadtests.compose) appear as targets with their labels, and the stack's own receiver, once
listed, as job "drain"."""

import json
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from app.process import free_port, stop
from loadtests import compose
from tests.conftest import metrics_as_mounted, require_binary

METRICS = Path(__file__).resolve().parents[2] / "metrics"
# Bounds on waits that normally take a second or two.
READY_TIMEOUT_S = 60


def stack_metrics(folder: Path, prometheus_port: int, alertmanager_port: int) -> Path:
    """metrics/ as the compose file mounts it (tests.conftest.metrics_as_mounted), with the
    containers' names (alertmanager:9093, localhost:9090) pointing at this test's own, and 1 s
    intervals so that every target is scraped and every rule evaluated within seconds."""
    mirror = metrics_as_mounted(folder)
    config = (mirror / "prometheus.yml").read_text()
    for container, here in {
        "alertmanager:9093": f"127.0.0.1:{alertmanager_port}",
        "localhost:9090": f"127.0.0.1:{prometheus_port}",
        "scrape_interval: 15s": "scrape_interval: 1s",
        "evaluation_interval: 15s": "evaluation_interval: 1s",
    }.items():
        assert container in config, container
        config = config.replace(container, here)
    (mirror / "prometheus.yml").write_text(config)
    return mirror


def api(port: int, path: str) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/{path}", timeout=10) as answer:
        return json.load(answer)["data"]


def wait_until(what: str, check, process: subprocess.Popen):
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        assert process.poll() is None, f"prometheus exited: {process.stderr.read()}"
        try:
            if value := check():
                return value
        except OSError:
            pass  # still starting
        time.sleep(0.2)
    pytest.fail(f"{what} not within {READY_TIMEOUT_S} s")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """A real Alertmanager and the stack's Prometheus, every target scraped and every rule
    group evaluated at least once: (Prometheus's port, the mirrored metrics/ folder)."""
    prometheus = require_binary("prometheus", "prometheus")
    alertmanager = require_binary("prometheus-alertmanager", "prometheus-alertmanager")
    folder = tmp_path_factory.mktemp("stack")
    port, am_port = free_port(), free_port()
    mirror = stack_metrics(folder, port, am_port)
    manager = subprocess.Popen(
        [alertmanager, f"--config.file={METRICS / 'alertmanager.yml'}",
         f"--storage.path={folder / 'alertmanager'}", f"--web.listen-address=127.0.0.1:{am_port}",
         "--cluster.listen-address="],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    server = subprocess.Popen(
        [prometheus, "--config.file=prometheus.yml", f"--storage.tsdb.path={folder / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}"],
        cwd=mirror, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:

        def settled():
            targets = api(port, "targets")["activeTargets"]
            groups = api(port, "rules")["groups"]
            scraped = targets and all(t["health"] != "unknown" for t in targets)
            evaluated = groups and all(g["lastEvaluation"] > "0001-01-01T00:00:00Z" for g in groups)
            return scraped and evaluated

        wait_until("a scrape of every target and an evaluation of every rule", settled, server)
        yield port, mirror, server
    finally:
        stop(server, timeout=30)
        stop(manager, timeout=30)


def test_with_nothing_running_no_target_is_down_and_no_alert_fires(stack):
    port, _, _ = stack
    targets = api(port, "targets")["activeTargets"]
    assert {(t["labels"]["job"], t["health"]) for t in targets} == {
        ("alertmanager", "up"),
        ("prometheus", "up"),
    }, [(t["scrapeUrl"], t["lastError"]) for t in targets]
    assert api(port, "alerts")["alerts"] == []  # neither firing nor pending
    # The rules loaded: an empty answer above is not a Prometheus without rules.
    assert len(api(port, "rules")["groups"]) >= 7


def test_a_grafana_runs_targets_files_and_the_stacks_receiver_are_scraped_as_listed(stack):
    port, mirror, server = stack
    groups = compose.targets({"web.1": 8000, "web.2": 8001}, 9646, drain=True)
    files = compose.write_targets(groups, mirror / "targets")
    # The stack's own receiver, once listed, is scraped as job "drain" too.
    (mirror / "targets" / "drain-stack.json").write_text('[{"targets": ["drain:8088"]}]')
    host = compose.CONTAINER_HOST

    def listed():
        return {
            (t["labels"]["job"], t["labels"]["instance"], t["labels"].get("dyno"))
            for t in api(port, "targets")["activeTargets"]
            if not t["labels"]["instance"].startswith("127.0.0.1:")
        }

    assert wait_until("the new targets", lambda: len(listed()) == 5 and listed(), server) == {
        ("app", f"{host}:8000", "web.1"),
        ("app", f"{host}:8001", "web.2"),
        ("locust", f"{host}:9646", None),
        ("drain", f"{host}:8088", None),
        ("drain", "drain:8088", None),
    }
    compose.remove_targets(files)
    assert not any(path.exists() for path in files)
