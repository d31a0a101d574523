"""Waitress's HTTP channel, with what a dyno behind Heroku's router needs from it.

``app.serve`` sets it as the server's ``channel_class``. Against Waitress 3.0.2 it changes:

- **A bodiless request with ``Expect: 100-continue`` completes.** Waitress answers the
  expectation by sending ``100 Continue`` and marking the request incomplete until a body
  arrives (``HTTPChannel.send_continue``); a GET with no body never gets one, so it held its
  connection until ``channel_timeout`` (120 s). With no body there is nothing to continue:
  the expectation is dropped, as RFC 9110 section 10.1.1 allows ("A server MAY omit sending
  a 100 (Continue) response if ...").
- **Each request carries the time it finished arriving** (``dyno.received_at`` in the WSGI
  environ, seconds since the epoch): the wait in Waitress's task queue, which
  ``X-Request-Start`` cannot show when there is no router in front (``app.shedding``).
- **While the dyno drains** (``app.draining``), a response that is the last thing its
  connection holds says ``Connection: close`` and closes it, so a client does not send
  another request on a connection that is about to go.
"""

import socket
import time

from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.task import WSGITask

RECEIVED_AT = "dyno.received_at"


class RequestParser(HTTPRequestParser):
    received_at = None

    def parse_header(self, header_plus):
        super().parse_header(header_plus)
        if self.expect_continue and not self.chunked and not self.content_length:
            self.expect_continue = False

    def received(self, data):
        consumed = super().received(data)
        if self.completed and self.received_at is None:
            self.received_at = time.time()
        return consumed


class Task(WSGITask):
    def get_environment(self):
        environ = super().get_environment()
        environ[RECEIVED_AT] = self.request.received_at
        return environ

    def build_response_header(self):
        if getattr(self.channel.server, "draining", False) and not self.channel.holds_more():
            self.set_close_on_finish()
        return super().build_response_header()


class Channel(HTTPChannel):
    parser_class = RequestParser
    task_class = Task

    def unread_bytes(self) -> bool:
        """Whether the socket has something to read: bytes, or the client's close."""
        try:
            self.socket.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except BlockingIOError:
            return False
        except OSError:
            pass  # reset: reading it closes the channel
        return True

    def holds_more(self) -> bool:
        """More than the request being answered: another one read, part of one, or bytes."""
        return len(self.requests) > 1 or self.request is not None or self.unread_bytes()

    def idle(self) -> bool:
        """Nothing to answer, nothing to send, nothing unread: closing it loses nothing."""
        return not (
            self.requests
            or self.request is not None
            or self.total_outbufs_len
            or self.unread_bytes()
        )
