"""Reads each dyno's /metrics once a second through a run, into `samples.jsonl`.

One JSON object per line: {"t": unix seconds, "target": "web.1", "metrics": {series: value}},
series written as in the exposition (`pg_stat_activity_count{datname="cce",state="active"}`).
Histogram buckets and `_created` series are left out: Prometheus keeps those when it runs.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

INTERVAL_S = 1.0


def parse_exposition(text: str) -> dict[str, float]:
    """Series text to value, for the series worth keeping once a second."""
    values = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name.endswith(("_bucket", "_created")):
                continue
            labels = ",".join(f'{key}="{value}"' for key, value in sorted(sample.labels.items()))
            values[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return values


class MetricsSampler:
    """A background thread scraping `targets` ({dyno name: /metrics URL}) every second."""

    def __init__(self, targets: dict[str, str], out: Path):
        self._targets = targets
        self._out = out
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="metrics-sampler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        with self._out.open("a") as out:
            while not self._stop.is_set():
                started = time.monotonic()
                for target, url in self._targets.items():
                    metrics = self._scrape(url)
                    if metrics is not None:
                        record = {"t": round(time.time(), 3), "target": target, "metrics": metrics}
                        out.write(json.dumps(record) + "\n")
                out.flush()
                self._stop.wait(max(0.0, INTERVAL_S - (time.monotonic() - started)))

    @staticmethod
    def _scrape(url: str) -> dict[str, float] | None:
        # A dyno too busy to answer in time is itself a finding: the gap shows in the file.
        try:
            with urllib.request.urlopen(url, timeout=INTERVAL_S * 5) as response:
                return parse_exposition(response.read().decode())
        except (OSError, ValueError):
            return None


def read_samples(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with path.open() as lines:
        return [json.loads(line) for line in lines if line.strip()]


def max_db_connections(samples: list[dict]) -> float | None:
    """Highest server-side connection count seen (pg_stat_activity_count summed over states).

    Every dyno reports the same server, so each sample is read on its own, not added up.
    """
    totals = [
        sum(v for k, v in s["metrics"].items() if k.startswith("pg_stat_activity_count"))
        for s in samples
        if any(k.startswith("pg_stat_activity_count") for k in s["metrics"])
    ]
    return max(totals, default=None)


def _growth(
    samples: list[dict], prefix: str, but: str | None = None
) -> dict[str, tuple[float, float]]:
    """Per target: seconds between its first and last sample, and how much the series
    starting with `prefix` (summed over their labels, leaving out any series whose labels
    contain `but`) grew in them."""
    points: dict[str, list[tuple[float, float]]] = {}
    for sample in samples:
        values = [
            v
            for k, v in sample["metrics"].items()
            if k.startswith(prefix) and not (but and but in k)
        ]
        if values:
            points.setdefault(sample["target"], []).append((sample["t"], sum(values)))
    return {
        target: (p[-1][0] - p[0][0], p[-1][1] - p[0][1])
        for target, p in points.items()
        if len(p) > 1 and p[-1][0] > p[0][0]
    }


def db_queries_per_second(samples: list[dict]) -> float | None:
    """django_db_execute_total's growth over the sampled span, summed over the dynos."""
    rates = [grew / span for span, grew in _growth(samples, "django_db_execute_total").values()]
    return sum(rates) if rates else None


APP_LATENCY = "django_http_requests_latency_seconds_by_view_method"
# Prometheus's and the sampler's own scrapes are not what the users asked for.
SCRAPES = 'view="metrics"'


def app_ms_per_request(samples: list[dict]) -> float | None:
    """The time a request spent inside the app (from Django's first middleware to the
    response), averaged over every dyno's requests. The rest of what the
    user waited was spent in front of the app: the dyno's queue, the router, the network."""
    seconds = _growth(samples, f"{APP_LATENCY}_sum", but=SCRAPES)
    counts = _growth(samples, f"{APP_LATENCY}_count", but=SCRAPES)
    requests = sum(grew for _, grew in counts.values())
    if not requests:
        return None
    return 1000 * sum(grew for _, grew in seconds.values()) / requests
