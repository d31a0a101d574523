"""Waitress saturation, read from the launcher's server (Pylons/waitress#182 asks since 2018).

Waitress has no metrics API. Its ``ThreadedTaskDispatcher`` keeps the tasks waiting for a
thread in ``queue`` and counts in ``active_count`` the threads not parked on their
condition, both guarded by ``lock``; the server's ``active_channels`` are the open client
connections. We read them under the dispatcher's lock, so the figures are exact: with
every thread busy, each extra request shows in the queue depth, one for one.
"""

from dataclasses import dataclass

from prometheus_client.core import GaugeMetricFamily

from dyno_metrics import connections


@dataclass(frozen=True)
class Saturation:
    threads: int
    threads_busy: int
    queue_depth: int
    connections: int
    connection_limit: int


def listeners(server) -> list:
    """The server's listening parts. A host name with several addresses (``localhost`` on a
    dual-stack machine: 127.0.0.1 and ::1) makes Waitress return a MultiSocketServer, one
    server per address in one shared map and one dispatcher, with no socket or channels of
    its own. Told apart by their attributes: the package does not require Waitress."""
    if hasattr(server, "active_channels"):
        return [server]
    return [part for part in server.map.values() if hasattr(part, "active_channels")]


def read(server) -> Saturation:
    with server.task_dispatcher.lock:
        return read_holding_lock(server)


def read_holding_lock(server) -> Saturation:
    """``read`` for a caller that holds the dispatcher's lock already: Waitress logs its
    "Task queue depth" warning under it."""
    dispatcher = server.task_dispatcher
    threads = len(dispatcher.threads) - dispatcher.stop_count
    busy = dispatcher.active_count
    queued = len(dispatcher.queue)
    return Saturation(
        threads=threads,
        threads_busy=max(0, min(busy, threads)),
        queue_depth=queued,
        connections=sum(len(part.active_channels) for part in listeners(server)),
        connection_limit=server.adj.connection_limit,
    )


def l2met_samples(server) -> dict[str, int]:
    """The dyno's figures for its l2met line (l2met.py): one Waitress process is the dyno."""
    snapshot = read(server)
    return {
        "waitress_queue_depth": snapshot.queue_depth,
        "waitress_threads_busy": snapshot.threads_busy,
        "waitress_threads": snapshot.threads,
        "waitress_connections": snapshot.connections,
        "django_db_connections_open": connections.count_open(),
    }


HELP = {
    "threads": "Worker threads configured (WAITRESS_THREADS).",
    "threads_busy": "Worker threads running a request now.",
    "queue_depth": "Requests accepted and waiting for a worker thread.",
    "connections": "Client connections open now.",
    "connection_limit": "Open connections at which Waitress stops accepting more.",
}


class WaitressCollector:
    def __init__(self, server):
        self._server = server

    def describe(self):
        return [GaugeMetricFamily(f"waitress_{name}", text) for name, text in HELP.items()]

    def collect(self):
        snapshot = read(self._server)
        for name, text in HELP.items():
            yield GaugeMetricFamily(f"waitress_{name}", text, value=getattr(snapshot, name))
