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
