"""A Prometheus for one run: scrapes the dynos and the load generator, evaluates the repo's
alert rules with shortened windows, and afterwards says which alerts fired.

Its data folder stays in the run folder, so the run can be queried again later:
`prometheus --storage.tsdb.path=runs/<run-id>/prometheus --config.file=<any config>`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from loadtests.processes import Process, free_port
from metrics.alerting import prometheus_config

# Scrape and rule evaluation every 2 s: a 30 s test still gives each alert a dozen looks.
SCRAPE_INTERVAL_S = 2
SCRAPE_INTERVAL = f"{SCRAPE_INTERVAL_S}s"
HOW_TO_INSTALL = (
    "not evaluated: no `prometheus` binary on PATH (Debian/Ubuntu: sudo apt-get install prometheus)"
)


def binary() -> str | None:
    return shutil.which("prometheus")


def write_fast_rules(rules_dir: Path) -> None:
    """The repo's alert and recording rules, built with windows short enough for a test run."""
    subprocess.run(
        [sys.executable, "-m", "metrics.alerting.build", "--fast", "--out", str(rules_dir)],
        check=True,
        capture_output=True,
    )


@dataclass
class FiredAlert:
    name: str
    severity: str
    # Unix seconds: when the alert first became pending (Prometheus's activeAt) and firing.
    active_at: float | None
    firing_at: float | None

    @property
    def runbook(self) -> str:
        return f"runbooks/{self.name}.md"


class RunPrometheus:
    """A real Prometheus on a free loopback port, its files under `run_dir`."""

    def __init__(
        self,
        run_dir: Path,
        app_targets: list[str],
        locust_targets: list[str],
        extra_jobs: dict[str, list[str]] | None = None,
    ):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        rules_dir = run_dir / "rules"
        write_fast_rules(rules_dir)
        config = run_dir / "prometheus.yml"
        config.write_text(
            prometheus_config(
                app_targets, locust_targets, str(rules_dir), SCRAPE_INTERVAL_S, extra_jobs
            )
        )
        self._process = Process(
            "prometheus",
            [
                binary() or "prometheus",
                f"--config.file={config}",
                f"--storage.tsdb.path={run_dir / 'prometheus'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--log.level=warn",
            ],
            run_dir / "prometheus.log",
        )
        self._process.wait_until_http_ok(f"{self.url}/-/ready")

    def stop(self) -> None:
        self._process.stop()

    def _api(self, path: str, **params) -> dict:
        query = urllib.parse.urlencode(params)
        with urllib.request.urlopen(f"{self.url}/api/v1/{path}?{query}", timeout=30) as answer:
            body = json.load(answer)
        if body.get("status") != "success":
            raise RuntimeError(f"Prometheus {path}: {body}")
        return body["data"]

    def scalar(self, promql: str, at: float) -> float | None:
        """The single value of `promql` at time `at` (None when it has no result)."""
        result = self._api("query", query=promql, time=at)["result"]
        return float(result[0]["value"][1]) if result else None

    def database_figures(self, start: float, end: float) -> tuple[float | None, float | None]:
        """Queries per second over the run, and the most server connections seen in it."""
        window = f"{max(1, round(end - start))}s"
        queries = self.scalar(
            f'sum(increase(django_db_execute_total{{job="app"}}[{window}])) / {window[:-1]}', end
        )
        # Every dyno reports the same server: take the busiest dyno's view, not their sum.
        connections = self.scalar(
            'max_over_time((max(sum by (dyno) (pg_stat_activity_count{job="app"})))'
            f"[{window}:{SCRAPE_INTERVAL}])",
            end,
        )
        return queries, connections

    def alerts_during(self, start: float, end: float) -> list[FiredAlert]:
        """Every alert that fired between `start` and `end`, in the order it became active."""
        series = self._api(
            "query_range", query="ALERTS", start=start, end=end, step=SCRAPE_INTERVAL
        )["result"]
        alerts: dict[str, FiredAlert] = {}
        for one in series:
            labels = one["metric"]
            first = float(one["values"][0][0])
            alert = alerts.setdefault(
                labels["alertname"],
                FiredAlert(labels["alertname"], labels.get("severity", ""), None, None),
            )
            if labels.get("alertstate") == "pending":
                alert.active_at = min(filter(None, [alert.active_at, first]), default=first)
            else:
                alert.firing_at = min(filter(None, [alert.firing_at, first]), default=first)
        fired = [a for a in alerts.values() if a.firing_at is not None]
        for alert in fired:  # an alert with `for: 0` is firing from its first evaluation
            alert.active_at = alert.active_at or alert.firing_at
        return sorted(fired, key=lambda a: (a.active_at, a.name))
