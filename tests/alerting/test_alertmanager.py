"""metrics/alertmanager.yml loads in amtool; critical goes to the pager, the rest to tickets."""

import json
import subprocess
import time
import urllib.request

import pytest

from tests.alerting.alerting_support import REPO, free_port, run

CONFIG = "--config.file=metrics/alertmanager.yml"


def test_alertmanager_config_is_valid(amtool):
    result = run(amtool, "check-config", "metrics/alertmanager.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "inhibit rules" in result.stdout


@pytest.mark.parametrize(
    ("severity", "receiver"),
    [("critical", "pager"), ("warning", "tickets"), ("info", "tickets")],
)
def test_routing_by_severity(amtool, severity, receiver):
    result = run(
        amtool, "config", "routes", "test", CONFIG, "alertname=AppDown", f"severity={severity}"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == receiver


def _api(port: int, path: str, payload=None):
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v2/{path}",
        data=data,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.load(response) if payload is None else None


def _alert(name: str, severity: str, instance: str) -> dict:
    labels = {"alertname": name, "severity": severity, "job": "app", "instance": instance}
    return {"labels": labels, "annotations": {"summary": "test."}}


def test_critical_inhibits_warning_and_two_dynos_are_one_page(alertmanager_binary, tmp_path):
    port = free_port()
    process = subprocess.Popen(
        [
            alertmanager_binary,
            f"--config.file={REPO / 'metrics/alertmanager.yml'}",
            f"--storage.path={tmp_path}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",  # no gossip: a single local Alertmanager
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                _api(port, "status")
                break
            except OSError:
                assert time.monotonic() < deadline, "Alertmanager did not start"
                time.sleep(0.3)
        near = "DatabaseConnectionsNearLimit"
        _api(
            port,
            "alerts",
            [
                _alert(near, "critical", "127.0.0.1:8000"),
                _alert(near, "warning", "127.0.0.1:8000"),
                _alert(near, "critical", "127.0.0.1:8001"),
            ],
        )
        # Inhibition is computed when alerts are listed; allow the insert to land.
        deadline = time.monotonic() + 10
        while len(alerts := _api(port, "alerts")) < 3:
            assert time.monotonic() < deadline, alerts
            time.sleep(0.2)
        state = {
            (a["labels"]["severity"], a["labels"]["instance"]): a["status"]["state"] for a in alerts
        }
        assert state == {
            ("critical", "127.0.0.1:8000"): "active",
            ("critical", "127.0.0.1:8001"): "active",
            ("warning", "127.0.0.1:8000"): "suppressed",
        }
        pages = [g for g in _api(port, "alerts/groups") if g["receiver"]["name"] == "pager"]
        assert len(pages) == 1 and len(pages[0]["alerts"]) == 2, pages
    finally:
        process.terminate()
        process.communicate(timeout=30)
