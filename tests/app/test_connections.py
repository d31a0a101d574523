"""Connections that do not finish a request cannot starve a real Waitress dyno of requests,
served alone and behind the router stand-in (Caddy)."""

import http.client
import os
import re
import resource
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import pytest
import requests

from loadtests import router
from tests.conftest import ROOT, free_port, running_app, wait_for_http

IDLE = 150
SLOW = 200
# Generous: a starved request waits for channel_timeout (120 s), never for this.
ANSWER_TIMEOUT = 15


@pytest.fixture(scope="module")
def dyno(seeded) -> Iterator[str]:
    with running_app(seeded) as url:
        yield url


@contextmanager
def idle_and_slow_clients(port: int) -> Iterator[None]:
    """IDLE connections that send nothing, and SLOW ones that stop in the middle of a
    header, as a slow-header (slowloris) client does between its bytes."""
    with ExitStack() as stack:
        for n in range(IDLE + SLOW):
            sock = stack.enter_context(socket.create_connection(("127.0.0.1", port), timeout=10))
            if n >= IDLE:
                sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        yield


def open_connections(base: str) -> int:
    text = requests.get(f"{base}/metrics", timeout=ANSWER_TIMEOUT).text
    return int(float(re.search(r"^waitress_connections (\S+)$", text, re.M).group(1)))


def test_idle_and_slow_clients_leave_room_for_requests(dyno):
    port = int(dyno.rsplit(":", 1)[1])
    with idle_and_slow_clients(port):
        assert requests.get(f"{dyno}/healthz", timeout=ANSWER_TIMEOUT).status_code == 200
        # They are all held by Waitress itself, not waiting in the kernel's backlog.
        assert open_connections(dyno) > IDLE + SLOW


def test_behind_the_router_they_wait_in_the_router_not_on_the_dyno(dyno, tmp_path):
    port = free_port()
    caddy = router.start(tmp_path, port, [dyno.removeprefix("http://")], "127.0.0.1")
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for_http(f"{base}/healthz")
        with idle_and_slow_clients(port):
            assert requests.get(f"{base}/healthz", timeout=ANSWER_TIMEOUT).status_code == 200
            assert open_connections(dyno) < IDLE
    finally:
        caddy.stop()


def test_a_bodiless_request_expecting_100_continue_is_answered(dyno):
    port = int(dyno.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=ANSWER_TIMEOUT) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 100-continue\r\n\r\n")
        response = http.client.HTTPResponse(sock)
        response.begin()  # skips a 100 Continue, if one came
        assert response.status == 200


def test_a_connection_limit_past_the_open_files_limit_is_a_one_line_error(seeded):
    def allow_256_open_files():
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))

    result = subprocess.run(
        [sys.executable, "-m", "app.serve", "--port", str(free_port())],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": seeded, "WAITRESS_CONNECTION_LIMIT": "1000"},
        preexec_fn=allow_256_open_files,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: WAITRESS_CONNECTION_LIMIT=1000 needs 1100 open files,"
        " and this process may open 256 (ulimit -Hn)"
    ]
