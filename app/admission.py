"""Admission control in Waitress's event loop: the dyno keeps serving its capacity under
overload instead of serving answers nobody waits for.

Goodput collapses when a first-in-first-out queue in front of the work holds more than the
clients wait: every request served has then waited too long. Rejecting only helps if it
costs much less than serving (at twice the capacity, rejecting at a fraction r of a page's
cost leaves at most (1 - 2r) / (1 - r) of the capacity for pages). Two places where it is
cheap, both in the event loop's thread, before a request reaches a worker thread:

- **The door.** A new connection that has waited in the kernel's backlog more than
  ``DOOR_SECONDS`` (Linux tells how long since its request arrived), or any new connection
  while the oldest request waiting for a thread has waited that long, is accepted and
  answered a canned 503 with ``Retry-After`` at once, without Waitress's channel, parser or
  a thread (a peek at the request line, one read, one send), and the next one is taken.
  Waitress alone accepts one connection per turn of its event loop, which under overload
  makes the backlog (``WAITRESS_BACKLOG``, 1024) a queue of seconds that nobody sees. The
  requests let in find short queues, in the backlog and for a thread.
  Requests on connections already open (a router's keep-alive pool) still come in; the
  next defence is for them.
- **The hand-off.** A request about to be queued for a thread that has already waited past
  ``QUEUE_TIME_BUDGET`` (since the router's ``X-Request-Start``: the router's own queue) is
  answered a canned 503 with ``Retry-After`` from the event loop, with no task, no thread
  and no Django (its cost against a page's: ``benchmarks/README.md``, "Overload").

``app.shedding`` still sheds a request that waited past the budget in Waitress's own queue,
when a thread takes it. ``/metrics`` is never shed: it is how the overload is seen.
"""

import socket
import struct
import time

from waitress.utilities import build_http_date

from app.shedding import BODY, NEVER_SHED, SHED, stamped_at
from dyno_metrics.waitress import listeners

# A page takes milliseconds of a thread: a second of queue keeps every thread busy through
# any lull in arrivals, and more queue only adds waiting.
DOOR_SECONDS = 1.0
# Connections the door answers in one turn of the event loop (the rest at the next turn).
TURNED_AWAY_PER_TURN = 64
# A request line and headers fit: Waitress's own read size.
READ_BYTES = 8192
NEVER_SHED_BYTES = frozenset(path.encode() for path in NEVER_SHED)
# struct tcp_info (include/uapi/linux/tcp.h): eight one-byte fields, then eleven u32 fields
# (tcpi_rto ... tcpi_last_ack_sent) before tcpi_last_data_recv, in milliseconds.
TCP_INFO = getattr(socket, "TCP_INFO", None)
_LAST_DATA_RECV_OFFSET = 8 + 11 * 4
_LAST_DATA_RECV = struct.Struct("=I")
_TCP_INFO_LENGTH = _LAST_DATA_RECV_OFFSET + _LAST_DATA_RECV.size


def oldest_wait(dispatcher, now: float) -> float:
    """Seconds the request at the head of Waitress's task queue has waited for a thread.
    Read without the dispatcher's lock (a thread may take it meanwhile: then it is 0)."""
    try:
        received_at = dispatcher.queue[0].requests[0].received_at
    except (IndexError, AttributeError):
        return 0.0
    return 0.0 if received_at is None else now - received_at


def backlog_wait(conn: socket.socket) -> float:
    """Seconds a connection just accepted waited in the kernel's backlog: since the last
    bytes of its request arrived, or since its handshake if none has (Linux's TCP_INFO
    ``tcpi_last_data_recv``); 0 where the kernel does not say."""
    try:
        info = conn.getsockopt(socket.IPPROTO_TCP, TCP_INFO, _TCP_INFO_LENGTH)
    except (OSError, TypeError):  # TypeError: no TCP_INFO on this platform
        return 0.0
    if len(info) < _TCP_INFO_LENGTH:
        return 0.0
    return _LAST_DATA_RECV.unpack_from(info, _LAST_DATA_RECV_OFFSET)[0] / 1000


def stamped_wait(request, now: float) -> float:
    """Seconds since the router stamped the request (X-Request-Start), else 0."""
    started = stamped_at(request.headers.get("X_REQUEST_START"), now)
    return 0.0 if started is None else now - started


def keeps_alive(request) -> bool:
    connection = request.headers.get("CONNECTION", "").lower()
    if request.version == "1.1":
        return "close" not in connection
    return "keep-alive" in connection


def unavailable(keep_alive: bool, with_body: bool = True) -> bytes:
    head = (
        "HTTP/1.1 503 Service Unavailable\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(BODY)}\r\n"
        "Retry-After: 1\r\n"
        f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n"
        f"Date: {build_http_date(time.time())}\r\n"
        "Server: waitress\r\n\r\n"
    ).encode("latin-1")
    return head + BODY if with_body else head


def request_target(head: bytes) -> tuple[bytes, bytes]:
    """The method and path of the request line at the start of `head`."""
    method, _, rest = head.partition(b" ")
    return method, rest.partition(b" ")[0].partition(b"?")[0]


class Admission:
    def __init__(self, listener, budget_seconds: float):
        self.listener = listener
        self.dispatcher = listener.task_dispatcher
        self.budget_seconds = budget_seconds
        self.waitress_add_task = listener.add_task

    def handle_accept(self) -> None:
        """The door: a connection that has waited in the backlog more than DOOR_SECONDS, or
        any while the request at the head of the task queue has, is answered 503 at once;
        the next one is taken, until one is let in (Waitress takes one per turn of its loop)."""
        queue_stale = oldest_wait(self.dispatcher, time.time()) > DOOR_SECONDS
        for _ in range(TURNED_AWAY_PER_TURN):
            try:
                conn, addr = self.listener.socket.accept()
            except OSError:  # the backlog is empty
                return
            if queue_stale or backlog_wait(conn) > DOOR_SECONDS:
                self.turn_away(conn, addr)
            else:
                self.admit(conn, addr)
                return

    def turn_away(self, conn, addr) -> None:
        try:
            head = conn.recv(READ_BYTES, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except BlockingIOError:  # its request is not here yet: let it in after all
            head = None
        except OSError:
            conn.close()
            return
        method, path = request_target(head or b"")
        if head is None or path in NEVER_SHED_BYTES:
            self.admit(conn, addr)
            return
        try:
            if head:
                conn.recv(READ_BYTES, socket.MSG_DONTWAIT)  # read, or closing resets
                conn.send(unavailable(keep_alive=False, with_body=method != b"HEAD"))
                SHED.inc()
        except OSError:
            pass
        conn.close()

    def admit(self, conn, addr) -> None:
        """What Waitress's own ``handle_accept`` does with a connection it accepted."""
        listener = self.listener
        try:
            listener.set_socket_options(conn)
        except OSError:
            conn.close()
            return
        listener.channel_class(
            listener, conn, listener.fix_addr(addr), listener.adj, map=listener._map
        )

    def add_task(self, channel) -> None:
        """Called with the channel's ``requests_lock`` held, from the event loop when a
        request is read, or from a worker thread for the next one on its connection (which
        then wakes the loop itself)."""
        request = channel.requests[0]
        if request.error or request.path in NEVER_SHED:
            return self.waitress_add_task(channel)
        if stamped_wait(request, time.time()) <= self.budget_seconds:
            return self.waitress_add_task(channel)
        SHED.inc()
        keep_alive = keeps_alive(request) and not getattr(channel.server, "draining", False)
        channel.requests.pop(0)
        request.close()
        response = unavailable(keep_alive, with_body=request.command != "HEAD")
        with channel.outbuf_lock:
            channel.outbufs[-1].append(response)
            channel.total_outbufs_len += len(response)
            try:
                channel._flush_some()  # now, rather than at the loop's next turn
            except OSError:
                channel.will_close = True
        if not keep_alive:
            channel.close_when_flushed = True
        elif channel.requests:  # pipelined behind it: the next one's turn
            self.add_task(channel)
        return None


def install(server, budget_seconds: float) -> None:
    """Admission control on each of the server's listeners (``app.serve``)."""
    for listener in listeners(server):
        admission = Admission(listener, budget_seconds)
        listener.handle_accept = admission.handle_accept
        listener.add_task = admission.add_task
