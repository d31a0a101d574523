"""Shared defaults for every dashboard: datasource variable, sizes, refresh.

One place for the values the Grafana generator and the HTML report both depend on, so a
change here moves both. Runbook links come from metrics.alerting.rules.runbook_url, the
alerts' own derivation.
"""

import math

# The datasource template variable every panel reads from; provisioning gives the default
# Prometheus datasource the fixed uid below, so the dashboards work on any Grafana.
DATASOURCE_VARIABLE = "datasource"
DATASOURCE_TYPE = "prometheus"
PROVISIONED_DATASOURCE_UID = "prometheus"

# Value a multi-select variable takes for "All": a regex that also matches an absent label
# (series from a Heroku app carry no dyno target label).
ALL_VALUE = ".*"

# What code that evaluates the panels itself (the run report, the query checks) puts for the
# `job` variable: the job names the kit's own Prometheus configs give the app (a load run's
# `app`, metrics/prometheus.yml's `app` and `heroku-app`). Grafana lists a user's own.
KIT_APP_JOBS = "app|heroku-app"

# Grafana's grid is 24 columns wide.
GRID_WIDTH = 24
STAT_HEIGHT = 4
CHART_HEIGHT = 8
TABLE_HEIGHT = 6

# A load test lasts minutes: show the last 15 of them and refresh often enough to watch it.
DEFAULT_TIME_FROM = "now-15m"
DEFAULT_REFRESH = "10s"
TAGS = ["connected-content-example"]

# The scrape interval Grafana assumes for a Prometheus data source that does not set one.
DEFAULT_SCRAPE_INTERVAL_S = 15


def rate_interval(step_s: float, scrape_interval_s: float = DEFAULT_SCRAPE_INTERVAL_S) -> str:
    """What Grafana substitutes for $__rate_interval, so the report draws what Grafana would:
    max($__interval + scrape interval, 4 x scrape interval), $__interval being the chart's
    step (grafana.com/blog/2020/09/28/new-in-grafana-7.2-__rate_interval-for-prometheus-rate-
    queries-that-just-work/, grafana/grafana#77234). Four scrapes keep a rate defined through
    a missed scrape; a fixed 1m over a run's 2 s scrapes drew a steady load as a climb from 0
    over the first minute. With 15 s scrapes and a 1 s step it is 1m."""
    return f"{math.ceil(max(step_s + scrape_interval_s, 4 * scrape_interval_s))}s"
