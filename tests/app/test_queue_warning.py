"""Waitress's queue warning from a real Waitress whose one thread the test holds busy,
summarised to one line per interval (the clock is the test's, so no timing is assumed)."""

import logging
import socket
import threading

import waitress

from app.log_filters import QueueWarningSummary
from app.waitress_channel import Channel
from dyno_metrics.waitress import read
from tests.metrics.test_waitress_metrics import wait_until

REQUEST = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"


class Lines(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


def test_one_line_per_interval_with_the_queue_threads_connections_and_the_oldest_wait():
    release = threading.Event()

    def held_app(environ, start_response):
        release.wait(20)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"done"]

    server = waitress.create_server(held_app, host="127.0.0.1", port=0, threads=1)
    server.channel_class = Channel
    now = [1000.0]
    summary = QueueWarningSummary(server, interval_seconds=5, clock=lambda: now[0])
    lines = Lines()
    queue_logger = logging.getLogger("waitress.queue")
    queue_logger.addFilter(summary)
    queue_logger.addHandler(lines)
    threading.Thread(target=server.run, daemon=True).start()
    clients = []

    def send():
        clients.append(socket.create_connection(("127.0.0.1", server.effective_port)))
        clients[-1].sendall(REQUEST)

    try:
        send()  # takes the thread
        wait_until(lambda: read(server).threads_busy == 1)
        for queued in range(1, 5):
            send()
            wait_until(lambda q=queued: read(server).queue_depth == q)
        assert len(lines.lines) == 1, lines.lines
        assert lines.lines[0].startswith(
            "requests wait for a thread: 1 queued (the oldest for 0."
        ), lines.lines
        assert lines.lines[0].endswith(
            "1 of 1 threads busy, 2 of 100 connections open;"
            " 0 such warnings not logged since the last"
        )
        now[0] += 5
        send()
        wait_until(lambda: len(lines.lines) == 2)
        assert lines.lines[1].startswith("requests wait for a thread: 5 queued")
        assert lines.lines[1].endswith(
            "1 of 1 threads busy, 6 of 100 connections open;"
            " 3 such warnings not logged since the last"
        )
    finally:
        queue_logger.removeFilter(summary)
        queue_logger.removeHandler(lines)
        release.set()
        wait_until(lambda: read(server).queue_depth == read(server).threads_busy == 0)
        for client in clients:
            client.close()
        server.close()
