"""Heroku-side alerts, from the log-drain receiver's series (metrics/drain; job "drain"):
the router's H codes, the dynos' memory, and Heroku Postgres's connections where the app's
own collector is absent."""

from metrics.alerting import config
from metrics.alerting.config import Timing
from metrics.alerting.database import NAME as DB_NEAR_LIMIT
from metrics.alerting.database import SUMMARY as DB_SUMMARY
from metrics.alerting.rules import alert, duration, number


def _router_share(codes: str, window: str) -> str:
    """The share of each dyno's routed requests that ended with one of `codes`."""
    return (
        f'sum by (job, dyno) (rate(heroku_router_requests_total{{code=~"{codes}"}}[{window}]))\n'
        f"  / sum by (job, dyno) (rate(heroku_router_requests_total[{window}]))\n"
        f"> {number(config.HEROKU_ROUTER_ERROR_RATIO)}\n"
    )


def request_timeouts(timing: Timing) -> dict:
    # H12: the router waited 30 s for the dyno to start a response, gave up and sent the user
    # a 503 itself.
    return alert(
        "HerokuRequestTimeouts",
        _router_share("H12", duration(timing.heroku_window)),
        timing.heroku_for,
        "critical",
        "Heroku's router is timing out requests (H12).",
        "{{ $value | humanizePercentage }} of the requests routed to dyno {{ $labels.dyno }}"
        " got no response within 30 s (H12) over the last 5 minutes.",
    )


def connections_closed(timing: Timing) -> dict:
    # H13: the dyno accepted the connection and closed it without a response; H18: it closed
    # it mid-request or mid-response. Both are the app or its server dying or resetting sockets.
    return alert(
        "HerokuConnectionsClosed",
        _router_share("H13|H18", duration(timing.heroku_window)),
        timing.heroku_for,
        "warning",
        "Dynos are closing connections without a full response (H13/H18).",
        "{{ $value | humanizePercentage }} of the requests routed to dyno {{ $labels.dyno }}"
        " ended with the dyno closing the connection (H13/H18) over the last 5 minutes.",
    )


def memory_over_quota(timing: Timing) -> dict:
    # R14: over the quota and swapping; R15 (vastly over): Heroku kills the dyno. Heroku's
    # percentage in "Process running mem=590M(115.2%)" is memory_total over the quota, so that
    # ratio is the check; the R14/R15 lines catch dynos whose runtime metrics are not enabled.
    window = duration(timing.heroku_window)
    return alert(
        "HerokuMemoryOverQuota",
        "max by (job, dyno) (heroku_dyno_memory_total_bytes / heroku_dyno_memory_quota_bytes) > 1\n"
        "or\n"
        "max by (job, dyno) "
        f'(increase(heroku_dyno_errors_total{{code=~"R14|R15"}}[{window}])) > 0\n',
        timing.heroku_for,
        "warning",
        "A dyno is over its memory quota (R14/R15).",
        "Dyno {{ $labels.dyno }} has used more memory than its quota for 5 minutes"
        " (memory_total above memory_quota, or R14/R15 logged); it swaps, and Heroku kills it"
        " at R15.",
    )


def database_connections_near_limit(timing: Timing) -> dict:
    # The contract's alert, fed from Heroku Postgres's metrics logs (Standard plans and above)
    # where the app's own collector cannot read the database: while one reads it
    # (pg_up == 1) the app-side rule (database.py) covers the database and this one stays
    # quiet, so it never fires twice. A collector that fails (pg_up 0) sees no connections
    # and silences nothing. pg_up carries no database label to match on, so any healthy
    # collector counts (an app reads one database).
    # The limit is the logs' sample#max-connections where given, else the plan limit the
    # receiver was told (DRAIN_PG_MAX_CONNECTIONS).
    return alert(
        DB_NEAR_LIMIT,
        "(\n"
        "  (\n"
        "    max by (job, addon, source) (heroku_postgres_active_connections)\n"
        "      / on (job, addon, source)\n"
        "    max by (job, addon, source) (heroku_postgres_max_connections)\n"
        "  )\n"
        "  or\n"
        "  (\n"
        "    max by (job, addon, source) (heroku_postgres_active_connections)\n"
        "      / on (job) group_left ()\n"
        "    max by (job) (heroku_postgres_plan_max_connections)\n"
        "  )\n"
        f") > {number(config.DB_CONNECTIONS_WARNING_RATIO)}\n"
        "unless on () (pg_up == 1)\n",
        timing.db_connections_warning_for,
        "warning",
        DB_SUMMARY,
        "Heroku Postgres {{ $labels.addon }} ({{ $labels.source }}) has used"
        " {{ $value | humanizePercentage }} of its connection limit for 5 minutes.",
    )


def rules(timing: Timing) -> list[dict]:
    return [
        request_timeouts(timing),
        connections_closed(timing),
        memory_over_quota(timing),
        database_connections_near_limit(timing),
    ]
