"""The load generator's Prometheus exporter: Locust's own statistics, read at scrape time.

Locust ships no Prometheus endpoint. This collector reads `environment.runner.stats` when
Prometheus scrapes, so its counts are Locust's counts exactly; in distributed mode it runs on
the master, whose statistics already aggregate every worker's reports.
"""

from __future__ import annotations

import time
from collections import deque

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

from loadtests.failures import KINDS, kind_of_message

# Seconds; Locust keeps response times in milliseconds rounded to 1 ms below 100 ms, 10 ms
# below 1 s and 100 ms above, so a bucket boundary is exact to that rounding.
DURATION_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)

# locust_request_duration_max_seconds is the slowest response seen in this many seconds.
MAX_WINDOW_S = 10


class LocustCollector:
    """Turns a Locust runner's statistics into the contract's `locust_*` series."""

    def __init__(self, environment, scenario: str):
        self._environment = environment
        self._scenario = scenario
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

        requests = CounterMetricFamily(
            "locust_requests", "Requests completed, failed ones included.", labels=["scenario"]
        )
        requests.add_metric(labels, total.num_requests)
        yield requests

        by_kind = dict.fromkeys(KINDS, 0)
        for error in runner.stats.errors.values():
            by_kind[kind_of_message(str(error.error))] += error.occurrences
        failures = CounterMetricFamily(
            "locust_failures", "Requests that failed, by kind.", labels=["scenario", "kind"]
        )
        for kind, count in by_kind.items():
            failures.add_metric([self._scenario, kind], count)
        yield failures

        response_times = dict(total.response_times)
        buckets, cumulative = [], 0
        counts = sorted(response_times.items())
        index = 0
        for bound in DURATION_BUCKETS_S:
            while index < len(counts) and counts[index][0] / 1000 <= bound:
                cumulative += counts[index][1]
                index += 1
            buckets.append((str(bound), cumulative))
        buckets.append(("+Inf", sum(response_times.values())))
        duration = HistogramMetricFamily(
            "locust_request_duration_seconds",
            "Response time of every request, as Locust measured it.",
            labels=["scenario"],
        )
        duration.add_metric(labels, buckets, total.total_response_time / 1000)
        yield duration

        window_max = GaugeMetricFamily(
            "locust_request_duration_max_seconds",
            f"Slowest response in the last {MAX_WINDOW_S} seconds.",
            labels=["scenario"],
        )
        window_max.add_metric(labels, self._window_max_seconds(response_times))
        yield window_max

        cpu = GaugeMetricFamily(
            "locust_cpu_usage_ratio",
            "CPU use of the busiest Locust process (0 to 1); above 0.9 it understates the server.",
            labels=["scenario"],
        )
        cpu.add_metric(labels, self.cpu_usage_ratio())
        yield cpu


def serve(environment, scenario: str, port: int, address: str = "127.0.0.1") -> LocustCollector:
    """Starts the exporter on its own port; the caller snapshots the collector each second."""
    collector = LocustCollector(environment, scenario)
    registry = CollectorRegistry()
    registry.register(collector)
    start_http_server(port, addr=address, registry=registry)
    return collector
