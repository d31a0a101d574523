"""Connections waiting in the kernel's accept queue, before the server accepts them.

A server that has stopped accepting (Waitress at its ``connection_limit``, every gunicorn
sync worker busy) leaves new connections in the listen socket's backlog, where neither its
own queue nor its busy threads show them. Linux reports the backlog of a listening socket
in ``TCP_INFO``: ``tcpi_unacked`` is the accept queue's length, ``tcpi_sacked`` its limit
(``tcp_get_info`` in the kernel's net/ipv4/tcp.c, "for listening sockets"). Elsewhere the
figures are absent rather than wrong.
"""

import socket
import struct

from prometheus_client.core import GaugeMetricFamily

# struct tcp_info (include/uapi/linux/tcp.h): eight one-byte fields, then u32 tcpi_rto,
# tcpi_ato, tcpi_snd_mss, tcpi_rcv_mss, tcpi_unacked, tcpi_sacked.
_TCP_INFO_LENGTH = 32
_UNACKED_AND_SACKED = struct.Struct("=II")
_OFFSET = 24


def read(sock: socket.socket) -> tuple[int, int] | None:
    """(connections waiting to be accepted, the backlog's limit), or None where unknown."""
    tcp_info = getattr(socket, "TCP_INFO", None)
    if tcp_info is None:
        return None
    try:
        info = sock.getsockopt(socket.IPPROTO_TCP, tcp_info, _TCP_INFO_LENGTH)
    except OSError:  # closed, or not a TCP socket (a Unix socket behind a proxy)
        return None
    if len(info) < _OFFSET + _UNACKED_AND_SACKED.size:
        return None
    return _UNACKED_AND_SACKED.unpack_from(info, _OFFSET)


# /proc/net/tcp and tcp6 (proc(5)): for a socket in state 0A (LISTEN), rx_queue is the accept
# queue's length (sk_ack_backlog, get_tcp4_sock in net/ipv4/tcp_ipv4.c).
_PROC_NET_TCP = ("/proc/net/tcp", "/proc/net/tcp6")
_LISTEN = "0A"


def listening_on(port: int) -> list[int] | None:
    """The accept-queue length of every listening socket on `port` in this network namespace
    (several with SO_REUSEPORT: gunicorn's `reuse_port` gives each worker its own), or None
    where /proc/net/tcp is not there."""
    queues = []
    try:
        for path in _PROC_NET_TCP:
            with open(path) as table:
                next(table)  # the header
                for line in table:
                    fields = line.split()
                    local, state, queue = fields[1], fields[3], fields[4]
                    if state == _LISTEN and int(local.rsplit(":", 1)[1], 16) == port:
                        queues.append(int(queue.split(":")[1], 16))
    except (OSError, IndexError, ValueError):
        return None
    return queues


class PortListenQueueCollector:
    """``listen_queue_depth`` / ``listen_queue_limit`` over every socket listening on the
    ports of `sockets` (a callable), whichever process holds them: with gunicorn's
    ``reuse_port`` each worker listens on a socket of its own, with a queue of its own, and
    the worker serving a scrape sees them all here. The limit is a socket's backlog times
    the sockets. Falls back to the given sockets' own TCP_INFO where /proc is not there."""

    def __init__(self, sockets):
        self._sockets = sockets

    def describe(self):
        return ListenQueueCollector._families()

    def collect(self):
        sockets = list(self._sockets())
        readings = [r for r in map(read, sockets) if r is not None]
        ports = {s.getsockname()[1] for s in sockets if s.family in _INET}
        queues = [listening_on(port) for port in ports]
        if not readings or not ports or None in queues:
            yield from ListenQueueCollector(lambda: sockets).collect()
            return
        depth, limit = ListenQueueCollector._families()
        backlog = max(maximum for _, maximum in readings)
        depth.add_metric([], sum(sum(found) for found in queues))
        limit.add_metric([], backlog * sum(len(found) for found in queues))
        yield from (depth, limit)


_INET = (socket.AF_INET, socket.AF_INET6)


class ListenQueueCollector:
    """``listen_queue_depth`` and ``listen_queue_limit`` for the sockets a server listens on."""

    def __init__(self, sockets):
        self._sockets = sockets

    def describe(self):
        return self._families()

    @staticmethod
    def _families():
        return (
            GaugeMetricFamily(
                "listen_queue_depth",
                "Connections the kernel accepted that wait for the server to accept them.",
            ),
            GaugeMetricFamily(
                "listen_queue_limit", "The listen socket's backlog: beyond it connections wait."
            ),
        )

    def collect(self):
        depth, limit = self._families()
        readings = [r for r in map(read, self._sockets()) if r is not None]
        if not readings:
            return
        depth.add_metric([], sum(queued for queued, _ in readings))
        limit.add_metric([], sum(maximum for _, maximum in readings))
        yield from (depth, limit)
