"""Alerts on the two fixes of the seed's story: the Redis page cache (test 9) failing or no
longer hitting, and PgBouncer's clients waiting for a server connection (test 4b)."""

from metrics.alerting import config
from metrics.alerting.config import Timing
from metrics.alerting.rules import alert, duration, number

CACHE_SUMMARY = "The page cache is failing: the database serves the page again."


def cache_fallbacks(timing: Timing) -> dict:
    window = duration(timing.cache_window)
    return alert(
        "PageCacheFailing",
        f"sum by (job, instance) (rate(page_cache_fallbacks_total[{window}])) > 0",
        timing.cache_failing_for,
        "warning",
        CACHE_SUMMARY,
        "{{ $labels.instance }} (job {{ $labels.job }}) reads the database instead of Redis"
        " {{ $value | humanize }} times per second (Redis down, slow or refusing).",
        {"source": "fallbacks"},
    )


def cache_hit_ratio(timing: Timing) -> dict:
    window = duration(timing.cache_window)
    gets = f"sum by (job, instance) (rate(django_cache_get_total[{window}]))"
    return alert(
        "PageCacheFailing",
        f"sum by (job, instance) (rate(django_cache_get_hits_total[{window}]))\n"
        f"/ {gets}\n"
        f"< {number(config.CACHE_HIT_RATIO_MIN)}\n"
        f"and {gets} >= {number(config.MIN_REQUESTS_PER_SECOND)}\n",
        timing.cache_failing_for,
        "warning",
        CACHE_SUMMARY,
        "Only {{ $value | humanizePercentage }} of the page cache reads on {{ $labels.instance }}"
        " (job {{ $labels.job }}) hit: most requests read the database.",
        {"source": "hit_ratio"},
    )


def pooler_clients_waiting(timing: Timing) -> dict:
    return alert(
        "PoolerClientsWaiting",
        "sum by (job, instance, database) (pgbouncer_pools_client_waiting_connections) > 0",
        timing.pooler_waiting_for,
        "warning",
        "Clients wait for a PgBouncer server connection: the pool is too small for the load.",
        "{{ $value }} clients of database {{ $labels.database }} wait in PgBouncer"
        " {{ $labels.instance }} (job {{ $labels.job }}) for a server connection.",
    )


def rules(timing: Timing) -> list[dict]:
    return [cache_fallbacks(timing), cache_hit_ratio(timing), pooler_clients_waiting(timing)]
