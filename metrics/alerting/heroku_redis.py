"""HerokuRedisConnectionsNearLimit: a Heroku Redis add-on near its plan's connection limit,
read from its metrics log lines by the log-drain receiver (metrics/drain, job "drain").

Small Heroku Redis plans have their own client limit, and newer metrics lines carry it
(``sample#max-connections=18``); past it Redis refuses new clients, and the page cache falls
back to the database (PageCacheFailing follows). Lines without the limit (older add-ons)
give no ratio, so the alert stays silent there rather than guessing a plan.
"""

from metrics.alerting import config
from metrics.alerting.config import Timing
from metrics.alerting.rules import alert, number


def redis_connections_near_limit(timing: Timing) -> dict:
    return alert(
        "HerokuRedisConnectionsNearLimit",
        "max by (job, addon, source) (heroku_redis_active_connections)\n"
        "/ max by (job, addon, source) (heroku_redis_max_connections)\n"
        f">= {number(config.REDIS_CONNECTIONS_WARNING_RATIO)}\n",
        timing.redis_connections_for,
        "warning",
        "Heroku Redis connections are near the plan's limit.",
        "Heroku Redis {{ $labels.addon }} ({{ $labels.source }}) has"
        " {{ $value | humanizePercentage }} of its plan's connections open: past the limit it"
        " refuses clients and the page cache falls back to the database.",
    )


def rules(timing: Timing) -> list[dict]:
    return [redis_connections_near_limit(timing)]
