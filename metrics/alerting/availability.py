"""Alerts on the app (and its database) not answering at all."""

from metrics.alerting.config import APP_JOBS, Timing
from metrics.alerting.rules import alert

SUMMARY = "The app is down."


def rules(timing: Timing) -> list[dict]:
    # `up == 0` rather than absent(up): every target listed in targets/*.json has an `up`
    # series, and absent() would fire forever where no local app is configured (Heroku only).
    scrape = alert(
        "AppDown",
        f'up{{job=~"{APP_JOBS}"}} == 0',
        timing.down_for,
        "critical",
        SUMMARY,
        "Prometheus cannot scrape {{ $labels.instance }} (job {{ $labels.job }}).",
        {"source": "scrape"},
    )
    database = alert(
        "AppDown",
        "pg_up == 0",
        timing.down_for,
        "critical",
        SUMMARY,
        "The app on {{ $labels.instance }} (job {{ $labels.job }}) cannot read PostgreSQL:"
        " the database is down or refuses its connections.",
        {"source": "database"},
    )
    return [scrape, database]
