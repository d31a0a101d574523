"""gunicorn's arbiter logs the dyno's l2met line on Heroku (DYNO set): a real gunicorn with
sync workers, requests held open by the test, and the sums the line must carry."""

import os
import select
import socket
import subprocess
import sys
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from app.process import ROOT, free_port, stop
from tests.metrics.l2met_log import DYNO, LINE_START, lines, newest
from tests.metrics.test_gunicorn_metrics import until

WORKERS = 3


@contextmanager
def gunicorn(log: Path, hold_port: int):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROMETHEUS_")}
    env.pop("METRICS_ENABLED", None)
    env.update(DYNO=DYNO, METRICS_LOG_INTERVAL="0.1", HOLD_PORT=str(hold_port))
    with open(log, "w") as out:
        server = subprocess.Popen(
            [str(Path(sys.executable).with_name("gunicorn")), "tests.metrics.holding_app",
             "-c", "python:dyno_metrics.gunicorn", "--bind", f"127.0.0.1:{port}",
             "--workers", str(WORKERS)],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        yield port, server
    finally:
        stop(server, timeout=30)


def until_line(log: Path, expected: dict[str, int]) -> None:
    until(lambda: newest(log) == expected, log)


def answers(clients: list[socket.socket], count: int) -> list[bytes]:
    """The status lines of the first `count` clients answered, each read to its end, closed and
    taken off `clients`:
    gunicorn lingers on a closed connection until its client closes too (up to 2 s)."""
    statuses = []
    while len(statuses) < count:
        ready, _, _ = select.select(clients, [], [], 60)
        assert ready, "no answer within 60 s"
        client = ready[0]
        clients.remove(client)
        client.settimeout(60)
        with client, client.makefile("rb") as stream:
            response = stream.read()
        statuses.append(response.split(b"\r\n", 1)[0])
    return statuses


def test_the_arbiter_logs_the_dynos_sums_over_its_workers(tmp_path):
    log = tmp_path / "gunicorn.log"
    holder = socket.create_server(("127.0.0.1", 0))
    holder.settimeout(60)
    # Held requests are let go (ExitStack) before gunicorn stops, which waits for them.
    with holder, gunicorn(log, holder.getsockname()[1]) as (port, server), ExitStack() as held:
        idle = {
            "gunicorn_workers": WORKERS,
            "gunicorn_requests_active": 0,
            "gunicorn_requests_limit": WORKERS,  # sync workers: one request each
            "listen_queue_depth": 0,
        }
        until_line(log, idle)
        # Every worker busy with a held request, and one more client waiting for a free worker
        # in the kernel's accept queue.
        clients = [
            held.enter_context(socket.create_connection(("127.0.0.1", port)))
            for _ in range(WORKERS + 1)
        ]
        for client in clients:
            client.sendall(b"GET / HTTP/1.0\r\n\r\n")
        requests_in_app = [held.enter_context(holder.accept()[0]) for _ in range(WORKERS)]
        until_line(log, {**idle, "gunicorn_requests_active": WORKERS, "listen_queue_depth": 1})
        # Let go: the held clients get their answers, then a worker serves the waiting one.
        for request in requests_in_app:
            request.close()
        answered = answers(clients, WORKERS)
        held.enter_context(holder.accept()[0]).close()
        answered += answers(clients, 1)
        assert answered == [b"HTTP/1.0 200 OK"] * (WORKERS + 1)
        until_line(log, idle)
    # Even before the workers booted, every line had gunicorn's figures (0 workers then); the
    # arbiter stopped its lines at exit (on_exit) and exited cleanly.
    assert all(line.startswith(LINE_START + "sample#gunicorn_workers=") for line in lines(log))
    assert server.returncode == 0


@pytest.mark.parametrize(
    "env, message",
    [
        ({"METRICS_LOG_INTERVAL": "0"}, "METRICS_LOG_INTERVAL must be a number of seconds"),
        ({"METRICS_ENABLED": "maybe"}, "METRICS_ENABLED must be one of on/off"),
    ],
)
def test_a_malformed_setting_stops_gunicorn_with_one_line(env, message):
    result = subprocess.run(
        [str(Path(sys.executable).with_name("gunicorn")), "tests.metrics.holding_app",
         "-c", "python:dyno_metrics.gunicorn", "--bind", f"127.0.0.1:{free_port()}"],
        cwd=ROOT, env={**os.environ, "DYNO": DYNO, **env}, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result.stderr
