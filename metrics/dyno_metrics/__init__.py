"""django-dyno-metrics: Prometheus metrics for a Django app on Heroku dynos.

What django-prometheus counts, plus what a dyno under load needs: database connections open
now (app side) and PostgreSQL's own count (server side), the WSGI server's saturation, the
router's queue time from ``X-Request-Start``, and per-dyno log lines for Heroku's log drain.
Install and settings: metrics/dyno_metrics/README.md.
"""

__version__ = "0.1.0"
