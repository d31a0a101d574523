"""metrics.alerting.prometheus_config(): promtool accepts its output, it refuses bad input, and a
real Prometheus running it with the FAST rules fires the expected alerts within a short run."""

import json
import subprocess
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from metrics.alerting import build, config, prometheus_config
from metrics.alerting.diagnosis import describe, fired_alerts
from metrics.alerting.rules import runbook_url
from tests.alerting.alerting_support import free_port, run


def write_run_config(directory, app_targets, locust_targets) -> str:
    build.write(directory / "rules", config.FAST)
    path = directory / "prometheus.yml"
    path.write_text(prometheus_config(app_targets, locust_targets, str(directory / "rules"), 2))
    return str(path)


def test_promtool_accepts_the_per_run_config(promtool, tmp_path):
    path = write_run_config(tmp_path, ["127.0.0.1:8000", "127.0.0.1:8001"], ["127.0.0.1:9646"])
    result = run(promtool, "check", "config", path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(build.AREAS)} rule files found" in result.stdout
    text = Path(path).read_text()
    assert "dyno: web.2" in text and "scrape_interval: 2s" in text


@pytest.mark.parametrize(
    ("app_targets", "interval", "message"),
    [
        (["http://127.0.0.1:8000"], 2, "host:port"),
        ("127.0.0.1:8000", 2, "not one string"),
        ([], 2, "at least one app target"),
        (["127.0.0.1:8000"], 0, "scrape_interval"),
    ],
)
def test_bad_input_is_refused_clearly(app_targets, interval, message):
    with pytest.raises(ValueError, match=message):
        prometheus_config(app_targets, [], "rules", interval)


class _Exposition(BaseHTTPRequestHandler):
    """Serves a fixed set of series; the error counter grows on every scrape, like a real one."""

    body = ""
    scrapes = 0

    def do_GET(self):  # noqa: N802 (http.server's name)
        type(self).scrapes += 1
        text = self.body.replace("ERRORS", str(5 * type(self).scrapes)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        self.wfile.write(text)

    def log_message(self, *args):
        pass


def serve(body: str) -> ThreadingHTTPServer:
    handler = type("Handler", (_Exposition,), {"body": body, "scrapes": 0})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


# The seed's test 4 as the app and Locust would expose it: 17 of 20 connections in use,
# connection errors climbing, Waitress queueing, and an overloaded generator.
APP_SERIES = """\
pg_up 1
pg_stat_activity_count{datname="app",state="active"} 17
pg_settings_max_connections 20
django_db_new_connection_errors_total{alias="default",vendor="postgresql"} ERRORS
waitress_queue_depth 4
"""
LOCUST_SERIES = 'locust_cpu_usage_ratio{scenario="test4"} 0.95\n'
EXPECTED = {
    ("DatabaseConnectionsNearLimit", "critical"),
    ("DatabaseConnectionsNearLimit", "warning"),
    ("DatabaseConnectionErrors", "critical"),
    ("RequestQueueing", "warning"),
    ("LoadGeneratorSaturated", "info"),
}


def firing(port: int) -> list[dict]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/alerts", timeout=5) as response:
        alerts = json.load(response)["data"]["alerts"]
    return [a for a in alerts if a["state"] == "firing"]


def test_fast_rules_fire_in_a_real_prometheus(prometheus_binary, tmp_path):
    app, locust = serve(APP_SERIES), serve(LOCUST_SERIES)
    targets = [f"127.0.0.1:{s.server_address[1]}" for s in (app, locust)]
    path = write_run_config(tmp_path, [targets[0]], [targets[1]])
    port = free_port()
    process = subprocess.Popen(
        [
            prometheus_binary,
            f"--config.file={path}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    seen: set = set()
    history = []
    try:
        deadline = time.monotonic() + 75
        while time.monotonic() < deadline and not seen >= EXPECTED:
            time.sleep(2)
            try:
                alerts = firing(port)
            except OSError:
                continue  # still starting
            seen |= {(a["labels"]["alertname"], a["labels"]["severity"]) for a in alerts}
            for alert in alerts:
                name = alert["labels"]["alertname"]
                assert alert["annotations"]["runbook_url"] == runbook_url(name)
        history = fired_alerts(f"http://127.0.0.1:{port}", 300)
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=30)
        app.shutdown()
        locust.shutdown()
    assert seen == EXPECTED, f"fired {sorted(seen)}; Prometheus said: {stderr.decode()[-2000:]}"
    # The run's diagnosis reads the same alerts back from the ALERTS history, critical first.
    assert {(a.name, a.severity) for a in history} == EXPECTED
    assert history[0].severity == "critical" and history[-1].severity == "info"
    assert "critical  DatabaseConnectionErrors" in describe(history)
    assert "runbooks/LoadGeneratorSaturated.md" in describe(history)


def test_diagnosis_says_when_nothing_fired():
    assert describe([]) == "No alerts fired."


def test_diagnosis_of_an_unreachable_prometheus_is_an_oserror():
    with pytest.raises(OSError):
        fired_alerts(f"http://127.0.0.1:{free_port()}", 60, timeout=2)
