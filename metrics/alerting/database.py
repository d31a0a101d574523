"""Alerts on PostgreSQL connections: the limit the seed's test 4 (gevent) ran into."""

from metrics.alerting import config
from metrics.alerting.config import Timing
from metrics.alerting.rules import alert, duration, number

NAME = "DatabaseConnectionsNearLimit"
SUMMARY = "PostgreSQL is running out of connection slots."


def near_limit(timing: Timing) -> list[dict]:
    # Two rules, one name: Alertmanager's inhibit rule silences the warning while the critical
    # one fires for the same job and instance.
    warning = alert(
        NAME,
        f"instance:pg_connections:usage_ratio >= {number(config.DB_CONNECTIONS_WARNING_RATIO)}",
        timing.db_connections_warning_for,
        "warning",
        SUMMARY,
        "{{ $labels.instance }} (job {{ $labels.job }}) sees {{ $value | humanizePercentage }}"
        " of PostgreSQL's max_connections in use.",
    )
    critical = alert(
        NAME,
        "max by (job, instance) (pg_settings_max_connections)\n"
        "-\n"
        "sum by (job, instance) (pg_stat_activity_count)\n"
        f"<= {config.DB_CONNECTIONS_CRITICAL_FREE_SLOTS}\n",
        timing.db_connections_critical_for,
        "critical",
        SUMMARY,
        "Only {{ $value }} connection slots are left on the PostgreSQL that {{ $labels.instance }}"
        " (job {{ $labels.job }}) reads; new connections fail from here on.",
    )
    return [warning, critical]


def connection_errors(timing: Timing) -> dict:
    window = duration(timing.db_errors_window)
    return alert(
        "DatabaseConnectionErrors",
        f"sum by (job, instance) (rate(django_db_new_connection_errors_total[{window}])) > 0",
        timing.db_errors_for,
        "critical",
        "The app fails to open database connections.",
        "{{ $labels.instance }} (job {{ $labels.job }}) fails to open"
        " {{ $value | humanize }} database connections per second.",
    )


def rules(timing: Timing) -> list[dict]:
    return [*near_limit(timing), connection_errors(timing)]
