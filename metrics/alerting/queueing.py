"""Alerts on requests waiting: Waitress's task queue, the router's queue time, and Waitress's
connections near the limit past which they wait in the kernel's backlog, and requests shed
because they waited too long."""

from metrics.alerting import config
from metrics.alerting.config import Timing
from metrics.alerting.rules import alert, duration, number

SUMMARY = "Requests are queueing: the server has reached its peak concurrency."


def waitress_queue(timing: Timing) -> dict:
    window = duration(timing.queue_window)
    return alert(
        "RequestQueueing",
        f"max by (job, instance) (avg_over_time(waitress_queue_depth[{window}]))"
        f" > {number(config.QUEUE_DEPTH_AVERAGE)}",
        timing.queueing_for,
        "warning",
        SUMMARY,
        "Requests on {{ $labels.instance }} (job {{ $labels.job }}) waited for a Waitress"
        f" thread: {{{{ $value }}}} on average over the last {window}.",
        {"source": "waitress"},
    )


def router_queue(timing: Timing) -> dict:
    return alert(
        "RequestQueueing",
        "instance:http_request_queue_seconds:p95_rate1m"
        f" > {number(config.ROUTER_QUEUE_P95_SECONDS)}",
        timing.queueing_for,
        "warning",
        SUMMARY,
        "Requests wait {{ $value | humanizeDuration }} (p95) between the router and"
        " {{ $labels.instance }} (job {{ $labels.job }}).",
        {"source": "router"},
    )


def connections_near_limit(timing: Timing) -> dict:
    return alert(
        "WaitressConnectionsNearLimit",
        "max by (job, instance) (waitress_connections / waitress_connection_limit)"
        f" >= {number(config.WAITRESS_CONNECTIONS_RATIO)}",
        timing.waitress_connections_for,
        "warning",
        "Waitress is running out of connections: new ones will wait before it accepts them.",
        "{{ $labels.instance }} (job {{ $labels.job }}) holds {{ $value | humanizePercentage }}"
        " of its connection_limit; past it, connections wait in the listen backlog.",
    )


def requests_shed(timing: Timing) -> dict:
    window = duration(timing.shed_window)
    return alert(
        "RequestsShed",
        f"sum by (job, instance) (rate(http_requests_shed_total[{window}])) > 0",
        timing.shed_for,
        "warning",
        "The dyno is overloaded: it answers 503 to requests it cannot serve in time.",
        "{{ $labels.instance }} (job {{ $labels.job }}) sheds {{ $value | humanize }}"
        " requests per second: they waited longer than QUEUE_TIME_BUDGET, or came while its"
        " queue held over a second of work.",
    )


def rules(timing: Timing) -> list[dict]:
    return [
        waitress_queue(timing),
        router_queue(timing),
        connections_near_limit(timing),
        requests_shed(timing),
    ]
