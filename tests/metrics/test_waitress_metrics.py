"""Waitress saturation read from a real Waitress server whose threads the test holds busy."""

import socket
import threading
import time

import waitress

from dyno_metrics.waitress import WaitressCollector, read


def wait_until(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


def test_with_every_thread_blocked_extra_requests_show_in_the_queue_one_for_one():
    release = threading.Event()

    def held_app(environ, start_response):
        release.wait(20)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"done"]

    server = waitress.create_server(
        held_app, host="127.0.0.1", port=0, threads=3, connection_limit=50
    )
    loop = threading.Thread(target=server.run, daemon=True)
    loop.start()
    port = server.effective_port
    clients = []
    try:
        wait_until(lambda: read(server).threads_busy == 0)
        idle = read(server)
        assert (idle.threads, idle.threads_busy, idle.queue_depth) == (3, 0, 0)
        assert idle.connection_limit == 50
        for sent in range(1, 8):
            client = socket.create_connection(("127.0.0.1", port))
            client.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
            clients.append(client)
            busy, queued = min(sent, 3), max(0, sent - 3)
            wait_until(
                lambda b=busy, q=queued, s=sent: (
                    (r := read(server)).threads_busy == b
                    and r.queue_depth == q
                    and r.connections == s
                )
            )
        samples = {f.name: f.samples[0].value for f in WaitressCollector(server).collect()}
        assert samples == {
            "waitress_threads": 3,
            "waitress_threads_busy": 3,
            "waitress_queue_depth": 4,
            "waitress_connections": 7,
            "waitress_connection_limit": 50,
        }
        release.set()
        wait_until(lambda: read(server).queue_depth == 0 and read(server).threads_busy == 0)
    finally:
        release.set()
        for client in clients:
            client.close()
        server.close()


def test_the_l2met_line_carries_the_same_figures_for_the_log_drain(django_db_blocker):
    from django.db import connections

    from dyno_metrics import l2met
    from dyno_metrics.waitress import l2met_samples

    def line_of(server) -> str:
        return l2met.line("web.3", l2met_samples(server))

    def open_connections(line: str) -> int:
        return int(line.rsplit(" sample#django_db_connections_open=", 1)[1])

    server = waitress.create_server(lambda e, s: [], host="127.0.0.1", port=0, threads=2)
    try:
        wait_until(lambda: read(server).threads_busy == 0)  # threads park once started
        database = connections["default"]
        with django_db_blocker.unblock():
            database.close()
            line = line_of(server)
            database.ensure_connection()
            with_one_more = open_connections(line_of(server))
            database.close()
            after_closing = open_connections(line_of(server))
    finally:
        server.close()
    assert line.startswith(
        "source=web.3 sample#waitress_queue_depth=0 sample#waitress_threads_busy=0 "
        "sample#waitress_threads=2 sample#waitress_connections=0 "
        "sample#django_db_connections_open="
    )
    # This thread's connection shows as it opens and goes as it closes.
    assert with_one_more == open_connections(line) + 1
    assert after_closing == open_connections(line)
