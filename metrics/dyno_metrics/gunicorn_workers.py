"""gunicorn's saturation, written by each worker and summed over the live ones (livesum).

gunicorn has no metrics API of its own (its statsd instrumentation sends request counts and
timings, not busy workers or the backlog). Its server hooks see every request start and
end in the worker that runs it, so the dyno's figures are exact sums: requests running now
against what the workers can run at once (one per sync worker, ``--threads`` per gthread
worker, ``--worker-connections`` per gevent worker). The connections waiting in the kernel
before any worker accepts them are the listen socket's backlog (listen_queue.py), the same
socket in every worker (or, with ``reuse_port``, one socket per worker on the same port), read
once per scrape by the worker serving it.
"""

from prometheus_client import Gauge

from dyno_metrics import collectors

WORKERS = Gauge("gunicorn_workers", "gunicorn worker processes alive.", multiprocess_mode="livesum")
REQUESTS_ACTIVE = Gauge(
    "gunicorn_requests_active",
    "Requests gunicorn's workers are running now (a sync worker: busy workers).",
    multiprocess_mode="livesum",
)
REQUESTS_LIMIT = Gauge(
    "gunicorn_requests_limit",
    "Requests the live workers can run at once: 1 per sync worker, threads per gthread "
    "worker, worker_connections per gevent worker.",
    multiprocess_mode="livesum",
)


def capacity(worker) -> int:
    from gunicorn.workers.base_async import AsyncWorker
    from gunicorn.workers.gthread import ThreadWorker

    if isinstance(worker, AsyncWorker):
        return worker.cfg.worker_connections
    if isinstance(worker, ThreadWorker):
        return worker.cfg.threads
    return 1


def started(worker) -> None:
    WORKERS.set(1)
    REQUESTS_LIMIT.set(capacity(worker))
    collectors.watch_listen_sockets(lambda: worker.sockets, every_process=True)
