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
- ``when_ready``, in the arbiter, where ``DYNO`` is set (Heroku): every 5 s one l2met line
  with the dyno's sums over its live workers, for the log drain (gunicorn_arbiter.py); the
  arbiter has no Django settings, so it reads ``DYNO``, ``METRICS_ENABLED`` and
  ``METRICS_LOG_INTERVAL`` from the environment (l2met.py);
- ``on_exit``: stops those lines, removes the temporary directory.

Nothing else is set: workers, threads, worker class and bind stay gunicorn's (and
Heroku's ``WEB_CONCURRENCY``) to choose.
"""

import functools
import sys
import threading

from dyno_metrics import l2met, multiprocess

try:
    _l2met = l2met.settings_from_environment()
except ValueError as error:
    sys.exit(f"error: {error}")  # one line, before gunicorn binds or makes anything
multiprocess.prepare()

__all__ = [
    "child_exit",
    "on_exit",
    "post_request",
    "post_worker_init",
    "pre_request",
    "when_ready",
]


# The worker's busy-requests gauge, bound once the worker has started: the hooks below run
# on every request, and gunicorn_workers can only be imported in a worker (it needs the app's
# settings).
_requests_active = None


def post_worker_init(worker):
    global _requests_active
    from dyno_metrics import gunicorn_workers

    gunicorn_workers.started(worker)
    _requests_active = gunicorn_workers.REQUESTS_ACTIVE


def pre_request(worker, req):
    _requests_active.inc()


def post_request(worker, req, environ, resp):
    _requests_active.dec()


def child_exit(server, worker):
    from prometheus_client import multiprocess as prometheus_multiprocess

    prometheus_multiprocess.mark_process_dead(worker.pid)


_stop_l2met = threading.Event()
_l2met_threads: list[threading.Thread] = []


def when_ready(server):
    if _l2met is not None:
        from dyno_metrics import gunicorn_arbiter  # after prepare(): it imports prometheus_client

        dyno, interval = _l2met
        read = functools.partial(gunicorn_arbiter.samples, server)
        _l2met_threads.append(l2met.start(dyno, read, _stop_l2met, interval))


def on_exit(server):
    _stop_l2met.set()
    for thread in _l2met_threads:
        thread.join()  # a line being written, at most: the directory goes next
    multiprocess.remove_created()
