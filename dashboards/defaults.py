"""Shared defaults for every dashboard: datasource variable, sizes, refresh.

One place for the values the Grafana generator and the HTML report both depend on, so a
change here moves both. Runbook links come from metrics.alerting.rules.runbook_url, the
alerts' own derivation.
"""

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

# What the report substitutes for Grafana's built-in variables when it evaluates a query
# itself: the window of the recording rules (rate1m), long enough for a 15 s scrape interval.
REPORT_RATE_INTERVAL = "1m"
