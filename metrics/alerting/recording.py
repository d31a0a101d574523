"""Recording rules that dashboards and alerts share (names fixed in the project's contract).

Each area's recording rules go into the same group as the alerts that read them, before them:
Prometheus evaluates the rules of one group in order, but separate groups in no fixed order,
so an alert in another group could see the recorded value one evaluation late.
"""

from metrics.alerting.config import Timing
from metrics.alerting.rules import duration, record

RESPONSES = "django_http_responses_total_by_status_view_method_total"
LATENCY_BUCKETS = "django_http_requests_latency_seconds_by_view_method_bucket"
# The views users ask for: not /metrics (Prometheus's scrapes, which wait on the collectors'
# database reads) nor /healthz (the platform's probes); their latency is not the page's.
USER_VIEWS = 'view!~"metrics|healthz"'
QUEUE_BUCKETS = "http_request_queue_seconds_bucket"

# The contract's 5xx ratio windows: 1m for dashboards, the rest for the burn-rate alert.
CONTRACT_RATIO_WINDOWS = (60, 300, 1800, 3600, 21600)


def share_of_responses(status_matcher: str, window: int) -> str:
    """Share of responses whose status matches, by job; 0 (not absent) when none match."""
    w = duration(window)
    return f"""
(
  sum by (job) (rate({RESPONSES}{{status{status_matcher}}}[{w}]))
or
  0 * sum by (job) (rate({RESPONSES}[{w}]))
)
/
sum by (job) (rate({RESPONSES}[{w}]))
"""


def ratio_windows(timing: Timing) -> list[int]:
    """Every window a 5xx ratio is recorded for: the contract's plus the timing's burn windows."""
    burn = {w for long, short, _ in timing.burn_rate_windows for w in (long, short)}
    return sorted(set(CONTRACT_RATIO_WINDOWS) | burn)


def http_rules(timing: Timing) -> list[dict]:
    rules = [
        record("job:django_http_responses:rate1m", f"sum by (job) (rate({RESPONSES}[1m]))"),
        record(
            "job_status:django_http_responses:rate1m",
            f"sum by (job, status) (rate({RESPONSES}[1m]))",
        ),
    ]
    rules += [
        record(
            f"job:django_http_responses_5xx:ratio_rate{duration(w)}",
            share_of_responses('=~"5.."', w),
        )
        for w in ratio_windows(timing)
    ]
    rules.append(
        record("job:django_http_responses_400:ratio_rate1m", share_of_responses('="400"', 60))
    )
    rules += [
        record(
            f"job_view:django_http_requests_latency_seconds:p{q}_rate1m",
            f"histogram_quantile(0.{q}, sum by (job, view, le) (rate({LATENCY_BUCKETS}[1m])))",
        )
        for q in (50, 95, 99)
    ]
    return rules


def database_rules(timing: Timing) -> list[dict]:
    return [
        record(
            "instance:pg_connections:usage_ratio",
            "sum by (job, instance) (pg_stat_activity_count)\n"
            "/\n"
            "max by (job, instance) (pg_settings_max_connections)\n",
        ),
    ]


def queueing_rules(timing: Timing) -> list[dict]:
    return [
        # Not in the contract: the "Router queue time (X-Request-Start)" panel and the
        # RequestQueueing alert share it.
        record(
            "instance:http_request_queue_seconds:p95_rate1m",
            f"histogram_quantile(0.95, sum by (job, instance, le) (rate({QUEUE_BUCKETS}[1m])))",
        ),
    ]


def loadgen_rules(timing: Timing) -> list[dict]:
    return [
        record(
            "scenario:locust_requests:rate1m", "sum by (scenario) (rate(locust_requests_total[1m]))"
        ),
        record(
            "scenario:locust_failures:ratio_rate1m",
            """
(
  sum by (scenario) (rate(locust_failures_total[1m]))
or
  0 * sum by (scenario) (rate(locust_requests_total[1m]))
)
/
sum by (scenario) (rate(locust_requests_total[1m]))
""",
        ),
        record(
            "scenario:locust_request_duration_seconds:p95_rate1m",
            "histogram_quantile(0.95, sum by (scenario, le) "
            "(rate(locust_request_duration_seconds_bucket[1m])))",
        ),
    ]
