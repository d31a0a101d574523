"""A prometheus.yml for one load run: a Prometheus on loopback that scrapes this run's app
"dynos" and Locust exporter and evaluates the rules in `rules_dir` (build them with
`python -m metrics.alerting.build --fast --out DIR` for ~1-minute runs).
"""

import re
from collections.abc import Sequence

from metrics.alerting.rules import duration
from metrics.alerting.yaml_text import dump

HOST_PORT = re.compile(r"^[A-Za-z0-9.\-\[\]:]+:\d{1,5}$")


def _targets(kind: str, targets: Sequence[str]) -> list[str]:
    if isinstance(targets, str):
        raise ValueError(f"{kind} targets must be a list of host:port, not one string")
    bad = [t for t in targets if not HOST_PORT.match(t)]
    if bad:
        raise ValueError(f"{kind} targets must be host:port (no scheme, no path): {bad}")
    return list(targets)


def prometheus_config(
    app_targets: Sequence[str],
    locust_targets: Sequence[str],
    rules_dir: str,
    scrape_interval: int = 2,
    extra_jobs: dict[str, Sequence[str]] | None = None,
) -> str:
    """YAML text of a per-run prometheus.yml.

    app_targets: the app processes' host:port, in dyno order; each gets `dyno="web.N"` like
    Heroku's dynos (none against a deployed app: no `app` job).
    locust_targets: the load generator exporter's host:port. rules_dir: a folder
    of rule files (absolute, or relative to where the config is written). scrape_interval: in
    seconds, also the rule evaluation interval. extra_jobs: more jobs, name -> host:port
    targets (a load run's PgBouncer pools exporter: job "pgbouncer").
    """
    apps = _targets("app", app_targets)
    if not apps and not locust_targets:
        # A run against --host scrapes its load generator alone.
        raise ValueError("at least one target (an app or a load generator) is needed")
    if not isinstance(scrape_interval, int) or scrape_interval < 1:
        raise ValueError(
            f"scrape_interval must be a whole number of seconds >= 1, not {scrape_interval!r}"
        )
    interval = duration(scrape_interval)
    app_job = {
        "job_name": "app",
        "static_configs": [
            {"targets": [target], "labels": {"dyno": f"web.{number}"}}
            for number, target in enumerate(apps, start=1)
        ],
    }
    locust_job = {
        "job_name": "locust",
        "static_configs": [{"targets": _targets("locust", locust_targets)}],
    }
    config = {
        "global": {
            "scrape_interval": interval,
            "evaluation_interval": interval,
            # A scrape must end before the next one starts.
            "scrape_timeout": interval,
        },
        "rule_files": [f"{str(rules_dir).rstrip('/')}/*.yml"],
        "scrape_configs": [app_job, locust_job] if apps else [locust_job],
    }
    config["scrape_configs"] += [
        {"job_name": name, "static_configs": [{"targets": _targets(name, targets)}]}
        for name, targets in (extra_jobs or {}).items()
    ]
    return dump(config)
