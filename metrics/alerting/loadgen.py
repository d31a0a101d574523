"""Alerts from the load generator's side: the latency users see, and the generator's own CPU."""

from metrics.alerting import config
from metrics.alerting.config import Timing
from metrics.alerting.http import LATENCY_SUMMARY
from metrics.alerting.rules import alert, number


def client_latency(timing: Timing) -> dict:
    # The users' view of HighLatency (router queue included); http.py has the app's own view.
    # It lives here, in the group that records the Locust p95 it reads.
    return alert(
        "HighLatency",
        "scenario:locust_request_duration_seconds:p95_rate1m"
        f" > {number(config.CLIENT_LATENCY_P95_SECONDS)}",
        timing.latency_for,
        "warning",
        LATENCY_SUMMARY,
        "Load-test scenario {{ $labels.scenario }} sees a p95 response time"
        " of {{ $value | humanizeDuration }}.",
        {"source": "client"},
    )


def saturated(timing: Timing) -> dict:
    # A saturated generator makes the server look better than it is.
    return alert(
        "LoadGeneratorSaturated",
        "max by (job, instance, scenario) (locust_cpu_usage_ratio)"
        f" > {number(config.LOADGEN_CPU_RATIO)}",
        timing.loadgen_for,
        "info",
        "The load generator is CPU-bound; its figures understate the server.",
        "Locust for scenario {{ $labels.scenario }} on {{ $labels.instance }} uses"
        " {{ $value | humanizePercentage }} of a CPU.",
    )


def rules(timing: Timing) -> list[dict]:
    return [client_latency(timing), saturated(timing)]
