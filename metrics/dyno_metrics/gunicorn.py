"""gunicorn configuration for an app instrumented with dyno_metrics.

    gunicorn myproject.wsgi -c python:dyno_metrics.gunicorn

or, with a ``gunicorn.conf.py`` of your own, ``from dyno_metrics.gunicorn import *`` at its
top (and call these hooks from yours if you define the same ones). What it does:

- at import, in gunicorn's arbiter and before the app or any worker exists: prepares
  ``PROMETHEUS_MULTIPROC_DIR`` (yours, emptied; else a temporary one), so every worker's
  counters and histograms sum on every scrape;
- ``child_exit``: ``mark_process_dead`` for the worker, as prometheus_client documents, so
  its live gauges (open database connections, requests running) leave the sums;
- ``post_worker_init``, ``pre_request``, ``post_request``: gunicorn's saturation (workers,
  requests running against what the workers can run at once) and the listen backlog;
- ``on_exit``: removes the temporary directory.

Nothing else is set: workers, threads, worker class and bind stay gunicorn's (and
Heroku's ``WEB_CONCURRENCY``) to choose.
"""

from dyno_metrics import multiprocess

multiprocess.prepare()

__all__ = ["child_exit", "on_exit", "post_request", "post_worker_init", "pre_request"]


def post_worker_init(worker):
    from dyno_metrics import gunicorn_workers

    gunicorn_workers.started(worker)


def _requests_active():
    """gunicorn_workers.REQUESTS_ACTIVE, imported in the worker (it needs the app's settings)
    and then kept: an import statement in every request's hooks cost about 0.4 us each."""
    global _requests_active_gauge
    if _requests_active_gauge is None:
        from dyno_metrics.gunicorn_workers import REQUESTS_ACTIVE

        _requests_active_gauge = REQUESTS_ACTIVE
    return _requests_active_gauge


_requests_active_gauge = None


def pre_request(worker, req):
    _requests_active().inc()


def post_request(worker, req, environ, resp):
    _requests_active().dec()


def child_exit(server, worker):
    from prometheus_client import multiprocess as prometheus_multiprocess

    prometheus_multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    multiprocess.remove_created()
