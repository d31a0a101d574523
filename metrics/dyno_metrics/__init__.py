"""django-dyno-metrics: Prometheus metrics for a Django app on Heroku dynos.

What django-prometheus counts, plus what a dyno under load needs: database connections open
now (app side) and PostgreSQL's own count (server side), the WSGI server's saturation, the
router's queue time from ``X-Request-Start``, and per-dyno log lines for Heroku's log drain.
Install and settings: metrics/dyno_metrics/README.md.
"""

__version__ = "0.1.0"

# Request latency buckets for django-prometheus's histograms, 1 ms to 30 s: in settings.py,
# PROMETHEUS_LATENCY_BUCKETS = dyno_metrics.LATENCY_BUCKETS. django-prometheus's own start at
# 10 ms, so a page served in a few milliseconds lands in the first bucket and every quantile
# is a straight line drawn inside it. These are dense where a healthy page lands (1 to 10 ms),
# have an edge at 1 s (the HighLatency threshold, so that it is exact), and end at Heroku's
# 30 s router timeout (H12), past which no user waits for the answer.
LATENCY_BUCKETS = (
    0.001,
    0.002,
    0.003,
    0.005,
    0.0075,
    0.01,
    0.015,
    0.025,
    0.05,
    0.075,
    0.1,
    0.25,
    0.5,
    0.75,
    1.0,
    2.5,
    5.0,
    7.5,
    10.0,
    15.0,
    20.0,
    30.0,
    float("inf"),
)
