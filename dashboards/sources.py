"""Where the report reads a panel's data: a run's Prometheus, or the run's own samples.

Both answer `series(expr, start, end, step)` with a list of (labels, [(t, value)]); the samples
answer only plain selectors and simple aggregations of sampled gauges (None otherwise).
"""

from __future__ import annotations

import json
import math
import re
import urllib.error
import urllib.parse
import urllib.request
from collections import defaultdict
from pathlib import Path

Labels = dict[str, str]
Points = list[tuple[float, float]]
SeriesData = list[tuple[Labels, Points]]

SAMPLES_FILE = "samples.jsonl"


class QueryError(Exception):
    """Prometheus refused a query (bad PromQL) or could not be reached."""


class PrometheusSource:
    """Prometheus's HTTP API: /api/v1/query_range and /api/v1/query."""

    def __init__(self, url: str, timeout: float = 30.0):
        self.url = url.rstrip("/")
        self.timeout = timeout

    def _get(self, path: str, params: dict[str, str]) -> list[dict]:
        query = urllib.parse.urlencode(params)
        try:
            with urllib.request.urlopen(
                f"{self.url}{path}?{query}", timeout=self.timeout
            ) as response:
                body = json.load(response)
        except urllib.error.HTTPError as error:
            detail = json.loads(error.read() or b"{}").get("error", error.reason)
            raise QueryError(f"{params['query']}: {detail}") from None
        except (urllib.error.URLError, OSError) as error:
            raise QueryError(f"cannot reach Prometheus at {self.url}: {error}") from None
        return body["data"]["result"]

    def series(self, expr: str, start: float, end: float, step: float) -> SeriesData:
        result = self._get(
            "/api/v1/query_range",
            {"query": expr, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step:g}"},
        )
        return [
            (item["metric"], [(float(t), float(v)) for t, v in item["values"]]) for item in result
        ]

    def instant(self, expr: str, at: float) -> list[tuple[Labels, float]]:
        result = self._get("/api/v1/query", {"query": expr, "time": f"{at:.3f}"})
        return [(item["metric"], float(item["value"][1])) for item in result]


# `name{label="v", ...}` as in the exposition format and in a PromQL selector.
SELECTOR = re.compile(r"^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(?:\{(.*)\})?\s*$")
MATCHER = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*,?')
AGGREGATION = re.compile(r"^\s*(sum|max|min|avg)\s*(?:by\s*\(([^)]*)\))?\s*\((.*)\)\s*$", re.DOTALL)
AGGREGATE = {"sum": sum, "max": max, "min": min, "avg": lambda vs: sum(vs) / len(vs)}


def _matchers(text: str | None) -> list[tuple[str, str, str]] | None:
    if not text:
        return []
    found, position = [], 0
    for match in MATCHER.finditer(text):
        if match.start() != position:
            return None
        found.append((match.group(1), match.group(2), match.group(3)))
        position = match.end()
    return found if position == len(text) else None


def parse_selector(text: str) -> tuple[str, list[tuple[str, str, str]]] | None:
    """(metric name, [(label, op, value)]) for a plain selector, None for anything else."""
    match = SELECTOR.match(text)
    if not match:
        return None
    matchers = _matchers(match.group(2))
    return None if matchers is None else (match.group(1), matchers)


def _matches(labels: Labels, matchers: list[tuple[str, str, str]]) -> bool:
    for name, op, value in matchers:
        actual = labels.get(name, "")
        if op == "=" and actual != value:
            return False
        if op == "!=" and actual == value:
            return False
        if op in ("=~", "!~") and (re.fullmatch(value, actual) is not None) != (op == "=~"):
            return False
    return True


class SamplesSource:
    """The run's own samples of the app's /metrics: run_dir/samples.jsonl, one object a line,
    {"t": unix_seconds, "target": "web.1", "metrics": {"<series as in the exposition>": value}}.
    `target` (optional) becomes the `dyno` label, as Prometheus's target label would, and every
    series gets `job="app"`, the job a load run's Prometheus scrapes the dynos as."""

    def __init__(self, path: Path):
        self.rows: list[tuple[float, dict[tuple[str, tuple], float]]] = []
        if not path.exists():
            return
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                target = {"job": "app"} | ({"dyno": row["target"]} if "target" in row else {})
                sampled = {}
                for text, value in row["metrics"].items():
                    parsed = parse_selector(text)
                    if parsed is None:
                        raise ValueError(f"not a series: {text!r}")
                    name, matchers = parsed
                    labels = target | {k: v for k, _, v in matchers}
                    sampled[(name, tuple(sorted(labels.items())))] = float(value)
                self.rows.append((float(row["t"]), sampled))
            except (ValueError, KeyError, TypeError) as error:
                raise ValueError(f"{path}:{number}: bad sample line: {error}") from None

    def series(self, expr: str, start: float, end: float, step: float) -> SeriesData | None:
        """The expression over the samples in [start, end], or None if it is not a plain
        selector or simple aggregation (sum/max/min/avg [by (...)]) of sampled series."""
        aggregation = AGGREGATION.match(expr)
        selector = parse_selector(aggregation.group(3) if aggregation else expr)
        if selector is None:
            return None
        name, matchers = selector
        by = (
            [b.strip() for b in (aggregation.group(2) or "").split(",") if b.strip()]
            if aggregation
            else None
        )
        grouped: dict[tuple, Points] = defaultdict(list)
        for t, sampled in self.rows:
            if not start <= t <= end:
                continue
            buckets: dict[tuple, list[float]] = defaultdict(list)
            for (metric, label_items), value in sampled.items():
                labels = dict(label_items)
                if metric != name or not _matches(labels, matchers):
                    continue
                key = tuple((b, labels.get(b, "")) for b in by) if by is not None else label_items
                buckets[key].append(value)
            for key, values in buckets.items():
                combine = AGGREGATE[aggregation.group(1)] if aggregation else (lambda vs: vs[0])
                grouped[key].append((t, combine(values)))
        return [(dict(key), points) for key, points in sorted(grouped.items())]


def finite_points(data: SeriesData) -> int:
    """How many drawable points the data holds (NaN from 0/0 rates does not count)."""
    return sum(1 for _, points in data for _, v in points if math.isfinite(v))
