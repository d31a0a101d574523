"""Counting right across a server's worker processes: prometheus_client's multiprocess mode.

gunicorn runs the app in N worker processes, and a scrape reaches one of them. Each process
then writes its counters, histograms and gauges to memory-mapped files in
``PROMETHEUS_MULTIPROC_DIR``, and whichever worker serves ``/metrics`` sums every file
(https://prometheus.github.io/client_python/multiprocess/). The directory must be set
before prometheus_client is first imported, and emptied before the server starts: the
package's gunicorn configuration (``dyno_metrics.gunicorn``) calls ``prepare`` for that in
gunicorn's arbiter, before it loads the app or forks a worker.
"""

import glob
import os
import shutil
import tempfile

ENV = "PROMETHEUS_MULTIPROC_DIR"
# Set by prepare() when it made the directory itself, so the server removes it on exit.
CREATED_ENV = "DYNO_METRICS_CREATED_MULTIPROC_DIR"


def directory() -> str:
    """The multiprocess directory, or "" in single-process mode (Waitress, runserver)."""
    return os.environ.get(ENV) or os.environ.get(ENV.lower()) or ""


def enabled() -> bool:
    return bool(directory())


def prepare() -> str:
    """Makes sure the directory exists and holds no file of an earlier run; returns it.

    The user's ``PROMETHEUS_MULTIPROC_DIR`` is kept (its ``*.db`` files removed); without
    one, a fresh temporary directory is made and exported to the workers."""
    path = directory()
    if path:
        os.makedirs(path, exist_ok=True)
        for stale in glob.glob(os.path.join(path, "*.db")):
            os.remove(stale)
    else:
        path = tempfile.mkdtemp(prefix="dyno-metrics-")
        os.environ[ENV] = path
        os.environ[CREATED_ENV] = path
    return path


def remove_created() -> None:
    """Removes the directory prepare() made (not one the user chose)."""
    created = os.environ.get(CREATED_ENV)
    if created and created == directory():
        shutil.rmtree(created, ignore_errors=True)
