"""Alerts on what users get back: 5xx share, 400 share, latency."""

from metrics.alerting import config
from metrics.alerting.config import Timing
from metrics.alerting.recording import USER_VIEWS
from metrics.alerting.rules import alert, duration, number

TRAFFIC_GUARD = f"job:django_http_responses:rate1m >= {number(config.MIN_REQUESTS_PER_SECOND)}"


def burn_rate_condition(long: int, short: int, burn: float) -> str:
    threshold = number(burn * config.ERROR_BUDGET)
    return (
        "  (\n"
        f"    job:django_http_responses_5xx:ratio_rate{duration(long)} > {threshold}\n"
        "    and\n"
        f"    job:django_http_responses_5xx:ratio_rate{duration(short)} > {threshold}\n"
        "  )"
    )


def high_error_rate(timing: Timing) -> dict:
    # SRE workbook multi-window, multi-burn-rate: any pair burning fast, both windows agreeing.
    pairs = "\n  or\n".join(burn_rate_condition(*pair) for pair in timing.burn_rate_windows)
    slo = number(100 * (1 - config.ERROR_BUDGET))
    slowest_burn = number(min(burn for _, _, burn in timing.burn_rate_windows))
    return alert(
        "HighErrorRate",
        f"(\n{pairs}\n)\nand on (job)\n{TRAFFIC_GUARD}\n",
        timing.error_rate_for,
        "critical",
        "The app answers too many requests with a server error (5xx).",
        "{{ $value | humanizePercentage }} of responses from job {{ $labels.job }} are 5xx:"
        f" the error budget of a {slo}% SLO burns at least {slowest_burn} times too fast.",
    )


def bad_request_surge(timing: Timing) -> dict:
    return alert(
        "BadRequestSurge",
        f"job:django_http_responses_400:ratio_rate1m > {number(config.BAD_REQUEST_RATIO)}\n"
        f"and on (job)\n{TRAFFIC_GUARD}\n",
        timing.bad_request_for,
        "critical",
        "Most requests are answered 400 Bad Request.",
        "{{ $value | humanizePercentage }} of responses from job {{ $labels.job }} are"
        " 400 Bad Request.",
    )


LATENCY_SUMMARY = "Responses are slow."


def high_latency(timing: Timing) -> dict:
    # The app's own view (view time); loadgen.py has the users' view (router queue included).
    return alert(
        "HighLatency",
        f"job_view:django_http_requests_latency_seconds:p95_rate1m{{{USER_VIEWS}}}"
        f" > {number(config.APP_LATENCY_P95_SECONDS)}",
        timing.latency_for,
        "warning",
        LATENCY_SUMMARY,
        "p95 latency of view {{ $labels.view }} on job {{ $labels.job }}"
        " is {{ $value | humanizeDuration }}.",
        {"source": "app"},
    )


def rules(timing: Timing) -> list[dict]:
    return [high_error_rate(timing), bad_request_surge(timing), high_latency(timing)]
