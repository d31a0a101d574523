"""SIGTERM under load on a real Waitress dyno: every accepted request is answered, exit 0.

The page is held by a lock on its table that the test takes in PostgreSQL, so at SIGTERM
both threads are busy, more requests wait in Waitress's queue or unread in their sockets,
one is only half sent, and one connection is an idle keep-alive.
"""

import os
import signal
import socket
import subprocess
import sys
import time

from tests.app.held_page import PAGE, answer, page_lock, send
from tests.conftest import ROOT, free_port, wait_for_http


def refuses_connections(port: int, timeout: float = 15) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except ConnectionRefusedError:
            return True
        time.sleep(0.05)
    return False


def test_sigterm_answers_every_accepted_request_then_exits_0(seeded):
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "app.serve", "--port", str(port)],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": seeded, "WAITRESS_THREADS": "2"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/healthz", process)
        idle = send(port, b"")
        with page_lock(seeded) as lock:
            lock.take()
            in_flight = [send(port, PAGE) for _ in range(5)]
            half_sent = send(port, PAGE[:20])
            process.send_signal(signal.SIGTERM)
            assert refuses_connections(port), "still accepting connections after SIGTERM"
            half_sent.sendall(PAGE[20:])
            lock.release()  # the held pages go on

        for sock in [*in_flight, half_sent]:
            status, body, connection = answer(sock)
            assert (status, len(body), connection) == (200, 140, "close")
        assert idle.recv(1) == b"", "the idle keep-alive was not closed cleanly"
        out, _ = process.communicate(timeout=40)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, out
    assert "draining: " in out and "drained in" in out, out
    assert "Canceling" not in out and "Traceback" not in out, out
