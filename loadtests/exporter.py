"""The load generator's Prometheus exporter: Locust's own statistics, read at scrape time.

Locust ships no Prometheus endpoint. This collector reads `environment.runner.stats` when
Prometheus scrapes, so its counts are Locust's counts exactly; in distributed mode it runs on
the master, whose statistics already aggregate every worker's reports.

Requests, failures and response times carry a `path` label: one of the paths the run declared
(the seed's `/` by default, loadtests/user_requests.py), so the label's values are bounded by
that list and a sum over `path` gives the run's totals.
"""

from __future__ import annotations

import time
from collections import deque

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

from loadtests.failures import KINDS, kind_of_message
from loadtests.user_requests import UserRequests

# Seconds; Locust keeps response times in milliseconds rounded to 1 ms below 100 ms, 10 ms
# below 1 s and 100 ms above, so a bucket boundary is exact to that rounding.
DURATION_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)

# locust_request_duration_max_seconds is the slowest response seen in this many seconds.
MAX_WINDOW_S = 10


class LocustCollector:
    """Turns a Locust runner's statistics into the contract's `locust_*` series."""

    def __init__(self, environment, scenario: str, requests: UserRequests):
        self._environment = environment
        self._scenario = scenario
        self._requests = requests
        # (monotonic time, copy of stats.total.response_times) once a second: the window
        # behind the rolling maximum.
        self._snapshots: deque[tuple[float, dict[int, int]]] = deque()

    def snapshot(self) -> None:
        """Records the response-time counts now; call once a second."""
        now = time.monotonic()
        self._snapshots.append((now, dict(self._stats().response_times)))
        while len(self._snapshots) > 1 and self._snapshots[1][0] <= now - MAX_WINDOW_S:
            self._snapshots.popleft()

    def describe(self):
        # Nothing to collect before the runner exists (registration happens first).
        return []

    def _stats(self):
        return self._environment.runner.stats.total

    def _window_max_seconds(self, response_times: dict[int, int]) -> float:
        oldest = self._snapshots[0][1] if self._snapshots else {}
        recent = [ms for ms, count in response_times.items() if count > oldest.get(ms, 0)]
        return max(recent, default=0) / 1000

    def cpu_usage_ratio(self) -> float:
        runner = self._environment.runner
        usages = [runner.current_cpu_usage]
        clients = getattr(runner, "clients", None)  # only a master has workers
        if clients is not None:
            usages += [worker.cpu_usage for worker in clients.values()]
        return max(usages) / 100

    def collect(self):
        labels = [self._scenario]
        runner = self._environment.runner
        total = self._stats()

        users = GaugeMetricFamily("locust_users", "Users running now.", labels=["scenario"])
        users.add_metric(labels, runner.user_count)
        yield users

        entries = {
            path: runner.stats.get(path, self._requests.method) for path in self._requests.names
        }
        requests = CounterMetricFamily(
            "locust_requests",
            "Requests completed, failed ones included, by declared path.",
            labels=["scenario", "path"],
        )
        for path, entry in entries.items():
            requests.add_metric([self._scenario, path], entry.num_requests)
        yield requests

        by_path_kind = {(path, kind): 0 for path in entries for kind in KINDS}
        for error in runner.stats.errors.values():
            key = (error.name, kind_of_message(str(error.error)))
            if key in by_path_kind:
                by_path_kind[key] += error.occurrences
        failures = CounterMetricFamily(
            "locust_failures",
            "Requests that failed, by declared path and kind.",
            labels=["scenario", "path", "kind"],
        )
        for (path, kind), count in by_path_kind.items():
            failures.add_metric([self._scenario, path, kind], count)
        yield failures

        duration = HistogramMetricFamily(
            "locust_request_duration_seconds",
            "Response time of every request, as Locust measured it, by declared path.",
            labels=["scenario", "path"],
        )
        for path, entry in entries.items():
            duration.add_metric(
                [self._scenario, path],
                _buckets(entry.response_times),
                entry.total_response_time / 1000,
            )
        yield duration

        window_max = GaugeMetricFamily(
            "locust_request_duration_max_seconds",
            f"Slowest response in the last {MAX_WINDOW_S} seconds.",
            labels=["scenario"],
        )
        window_max.add_metric(labels, self._window_max_seconds(dict(total.response_times)))
        yield window_max

        cpu = GaugeMetricFamily(
            "locust_cpu_usage_ratio",
            "CPU use of the busiest Locust process (0 to 1); above 0.9 it understates the server.",
            labels=["scenario"],
        )
        cpu.add_metric(labels, self.cpu_usage_ratio())
        yield cpu


def _buckets(response_times: dict[int, int]) -> list[tuple[str, int]]:
    """Locust's {milliseconds: count} as cumulative histogram buckets in seconds."""
    buckets, cumulative = [], 0
    counts = sorted(response_times.items())
    index = 0
    for bound in DURATION_BUCKETS_S:
        while index < len(counts) and counts[index][0] / 1000 <= bound:
            cumulative += counts[index][1]
            index += 1
        buckets.append((str(bound), cumulative))
    buckets.append(("+Inf", sum(response_times.values())))
    return buckets


def serve(
    environment, scenario: str, requests: UserRequests, port: int, address: str = "127.0.0.1"
) -> LocustCollector:
    """Starts the exporter on its own port; the caller snapshots the collector each second."""
    collector = LocustCollector(environment, scenario, requests)
    registry = CollectorRegistry()
    registry.register(collector)
    start_http_server(port, addr=address, registry=registry)
    return collector
