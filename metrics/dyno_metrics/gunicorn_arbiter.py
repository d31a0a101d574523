"""gunicorn's per-dyno l2met line, from the arbiter: the dyno's sums over its live workers.

On Heroku a scrape reaches a random dyno, so each dyno logs its own figures (l2met.py). Under
gunicorn no worker sees the dyno, but the arbiter does: it reads the workers' live gauges
from the multiprocess directory, summed as a scrape sums them (prometheus_client's
``livesum``: every live worker's file; ``child_exit`` removes a dead one's), and the listen
backlog from its own listening sockets.

The arbiter has loaded no Django settings (unless ``--preload``), so whether and how often
it logs comes from the environment only (``l2met.settings_from_environment``), and the
directory from ``PROMETHEUS_MULTIPROC_DIR``. Imported only once the configuration has set
that directory: prometheus_client picks its multiprocess value class when first imported,
and the workers forked from the arbiter inherit the choice.
"""

import glob
import os
import socket

from prometheus_client.multiprocess import MultiProcessCollector

from dyno_metrics import listen_queue, multiprocess

# The workers' livesum gauges, in the line's order. gunicorn_workers.py's are written by the
# package's own hooks in every worker: while none is alive they sum to 0 (a dyno whose workers
# keep dying shows as such). connections.py's is written by the Django app, so it is left out
# until a worker has written it, rather than shown as a 0 nobody measured.
GUNICORN = ("gunicorn_workers", "gunicorn_requests_active", "gunicorn_requests_limit")
CONNECTIONS = "django_db_connections_open"


def samples(arbiter) -> dict[str, float]:
    """The line's figures: the workers' live gauges summed, and the listen backlog."""
    # Only the live gauges' files: the counters' and histograms' are not needed here.
    files = glob.glob(os.path.join(multiprocess.directory(), "gauge_live*.db"))
    summed = {
        sample.name: sample.value
        for family in MultiProcessCollector.merge(files, accumulate=False)
        for sample in family.samples
    }
    found = {name: summed.get(name, 0) for name in GUNICORN}
    if CONNECTIONS in summed:
        found[CONNECTIONS] = summed[CONNECTIONS]
    depth = listen_depth(arbiter)
    if depth is not None:
        found["listen_queue_depth"] = depth
    return found


def listen_depth(arbiter) -> int | None:
    """Connections waiting in the kernel for a worker to accept them, on every socket
    listening on gunicorn's ports: the arbiter's own, or with ``reuse_port`` (the arbiter
    then holds none) each worker's. None where /proc/net/tcp is not there (not Linux)."""
    ports = {
        listener.sock.getsockname()[1]
        for listener in arbiter.LISTENERS
        if listener.sock.family in (socket.AF_INET, socket.AF_INET6)
    } or {address[1] for address in arbiter.cfg.address if isinstance(address, tuple)}
    queues = [listen_queue.listening_on(port) for port in ports]
    if not queues or None in queues:
        return None
    return sum(sum(found) for found in queues)
