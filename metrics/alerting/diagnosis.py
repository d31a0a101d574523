"""Which alerts fired during a run, read back from the run's Prometheus, with their runbooks.

The alerts API (/api/v1/alerts) only lists what is pending or firing *now*; an alert that fired
and resolved mid-run is gone from it. Prometheus also writes every pending/firing alert as the
series ALERTS{alertname, alertstate, severity, ...}, so the run's history is one query away.
"""

import json
import urllib.parse
import urllib.request
from dataclasses import dataclass

from metrics.alerting.rules import SEVERITIES, runbook_url


@dataclass(frozen=True)
class FiredAlert:
    name: str
    severity: str

    @property
    def runbook(self) -> str:
        """The page in this repository (relative path), for the terminal."""
        return f"runbooks/{self.name}.md"

    @property
    def runbook_url(self) -> str:
        return runbook_url(self.name)


def fired_query(window_seconds: int) -> str:
    return (
        "max by (alertname, severity) "
        f'(max_over_time(ALERTS{{alertstate="firing"}}[{int(window_seconds)}s]))'
    )


def fired_alerts(prometheus_url: str, window_seconds: int, timeout: float = 10) -> list[FiredAlert]:
    """Alerts that were firing at any time in the last `window_seconds`, most severe first.

    Raises OSError when Prometheus cannot be reached or answers with an error.
    """
    query = urllib.parse.urlencode({"query": fired_query(window_seconds)})
    url = f"{prometheus_url.rstrip('/')}/api/v1/query?{query}"
    with urllib.request.urlopen(url, timeout=timeout) as response:
        body = json.load(response)
    if body.get("status") != "success":
        raise OSError(f"Prometheus query failed: {body.get('error', body)}")
    found = {
        FiredAlert(r["metric"]["alertname"], r["metric"].get("severity", "info"))
        for r in body["data"]["result"]
    }
    rank = {severity: i for i, severity in enumerate(SEVERITIES)}
    return sorted(found, key=lambda a: (rank.get(a.severity, len(rank)), a.name))


def describe(alerts: list[FiredAlert]) -> str:
    """The lines a run prints: one per alert and its runbook, or that none fired."""
    if not alerts:
        return "No alerts fired."
    width = max(len(a.name) for a in alerts)
    return "\n".join(f"{a.severity:<8}  {a.name:<{width}}  {a.runbook}" for a in alerts)
