"""Bad input at start-up is one line naming the problem and exit status 2, never a traceback
or a server that silently does something else: real `python -m` processes."""

import os
import shutil
import socket
import subprocess
import sys

import pytest

from tests.conftest import ROOT

# Settings are read, not used: nothing connects to this.
UNREACHABLE_DATABASE = "postgres://u@127.0.0.1:1/db"


def run(args: list[str], cwd=ROOT, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=cwd,
        env={**os.environ, "DATABASE_URL": UNREACHABLE_DATABASE, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def one_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize(
    "args, env, expected",
    [
        # Waitress would listen on 70000 % 65536 = 4464 without a word.
        (
            ["app.serve", "--port", "70000"],
            {},
            "python -m app.serve: error: argument --port: must be a whole number from 0 to "
            "65535, got '70000'",
        ),
        (
            ["metrics.drain", "--port", "70000"],
            {},
            "python -m metrics.drain: error: argument --port: must be a whole number from 0 to "
            "65535, got '70000'",
        ),
        # Zero threads accept connections and never answer them.
        (
            ["metrics.drain", "--threads", "0"],
            {},
            "python -m metrics.drain: error: argument --threads: must be a whole number from 1 "
            "to 1000, got '0'",
        ),
        # Was a traceback from logging.config.dictConfig.
        (
            ["app.serve"],
            {"LOG_LEVEL": "loud"},
            "error: LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, got 'loud'",
        ),
        # On Heroku (DYNO set) /metrics would be public.
        (
            ["app.serve"],
            {"DYNO": "web.1", "SECRET_KEY": "k" * 50, "METRICS_TOKEN": ""},
            "error: METRICS_TOKEN must be set on Heroku, or /metrics is public "
            "(app.json generates one)",
        ),
    ],
)
def test_bad_input_is_one_line_and_status_2(args, env, expected):
    assert one_line(run(args, **env)) == expected


def test_an_os_error_while_reading_the_settings_is_one_line(tmp_path):
    # The app in a folder of its own whose .data/secret_key, where a generated SECRET_KEY is
    # kept, cannot be read (a folder stands in for any unreadable file: root reads them all).
    shutil.copytree(ROOT / "app", tmp_path / "app", ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / ".data" / "secret_key").mkdir(parents=True)
    line = one_line(run(["app.serve"], cwd=tmp_path, SECRET_KEY=""))
    assert line.startswith("error: reading the settings: [Errno 21] Is a directory: ")
    assert line.endswith(f"{tmp_path / '.data' / 'secret_key'}'")


def test_a_host_name_with_several_addresses_is_served_and_measured_on_each():
    """localhost on a dual-stack machine is 127.0.0.1 and ::1: Waitress then returns a
    MultiSocketServer, which has no socket or channels of its own. Two loopback addresses
    make one here whatever this machine's localhost resolves to."""
    import threading

    import waitress
    from prometheus_client import CollectorRegistry
    from prometheus_client.exposition import generate_latest

    from app.serve import listening_urls
    from dyno_metrics import listen_queue
    from dyno_metrics.listen_queue import ListenQueueCollector
    from dyno_metrics.waitress import WaitressCollector, listeners
    from tests.metrics.scrape import parse, value

    def hello(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    server = waitress.create_server(hello, listen="127.0.0.1:0 127.0.0.2:0", threads=2)
    loop = threading.Thread(target=server.run, daemon=True)
    loop.start()
    try:
        # What collectors.watch_waitress registers, on a registry of the test's own.
        registry = CollectorRegistry()
        registry.register(WaitressCollector(server))
        registry.register(ListenQueueCollector(lambda: [p.socket for p in listeners(server)]))
        urls = listening_urls(server).split()
        assert [url.rsplit(":", 1)[0] for url in urls] == ["http://127.0.0.1", "http://127.0.0.2"]
        clients = [socket.create_connection(url[7:].rsplit(":", 1), timeout=5) for url in urls]
        # Each address answers, and both open connections are counted, one per address.
        for client in clients:
            client.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            assert client.recv(100).startswith(b"HTTP/1.1 200")
        samples = parse(generate_latest(registry).decode())
        assert value(samples, "waitress_connections") == 2
        limits = [listen_queue.read(part.socket)[1] for part in listeners(server)]
        assert len(limits) == 2 and value(samples, "listen_queue_limit") == sum(limits) > 0
        for client in clients:
            client.close()
    finally:
        server.close()
