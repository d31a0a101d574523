"""Alerts on the load generator itself: a saturated generator makes the server look better."""

from metrics.alerting import config
from metrics.alerting.config import Timing
from metrics.alerting.rules import alert, number


def rules(timing: Timing) -> list[dict]:
    return [
        alert(
            "LoadGeneratorSaturated",
            "max by (job, instance, scenario) (locust_cpu_usage_ratio)"
            f" > {number(config.LOADGEN_CPU_RATIO)}",
            timing.loadgen_for,
            "info",
            "The load generator is CPU-bound; its figures understate the server.",
            "Locust for scenario {{ $labels.scenario }} on {{ $labels.instance }} uses"
            " {{ $value | humanizePercentage }} of a CPU.",
        )
    ]
