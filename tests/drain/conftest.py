"""Real receivers on loopback for the drain tests: a Waitress server in a thread around a
fresh app, or `python -m metrics.drain` as its own process."""

import contextlib
import os
import subprocess
import sys
import threading

import pytest
import waitress

from metrics.drain import settings as settings_module
from metrics.drain.app import DrainApp
from tests.conftest import ROOT, free_port, wait_for_http
from tests.drain.helpers import PASSWORD, USERNAME, Receiver


@pytest.fixture
def serve_app():
    """Serve a DrainApp with a real Waitress on a free loopback port, in a thread."""
    servers = []

    def start(env=None, **flags) -> tuple[Receiver, DrainApp]:
        base = {"DRAIN_USERNAME": USERNAME, "DRAIN_PASSWORD": PASSWORD}
        app = DrainApp(settings_module.load({**base, **(env or {})}, **flags))
        server = waitress.create_server(app, host="127.0.0.1", port=0, threads=2)
        loop = threading.Thread(target=server.run, daemon=True)
        loop.start()
        servers.append((server, loop))
        return Receiver(server.effective_port), app

    yield start
    for server, loop in servers:
        # Close from inside the server's own loop, so the loop ends instead of polling a
        # closed socket. pull_trigger queues the close before it writes to the trigger's
        # pipe, so a request thread waking the loop at that moment can run the close (and
        # shut the pipe) first: the write then fails, the server is closed all the same.
        with contextlib.suppress(OSError):
            server.trigger.pull_trigger(server.close)
        loop.join(timeout=10)


@pytest.fixture
def run_receiver():
    """Start `python -m metrics.drain` as its own process on a free port."""
    processes = []

    def start(*args, env=None) -> tuple[Receiver, subprocess.Popen]:
        port = free_port()
        full_env = {**os.environ, "DRAIN_USERNAME": USERNAME, "DRAIN_PASSWORD": PASSWORD}
        full_env.update(env or {})
        process = subprocess.Popen(
            [sys.executable, "-m", "metrics.drain", "--port", str(port), *args],
            cwd=ROOT,
            env=full_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        processes.append(process)
        receiver = Receiver(port)
        wait_for_http(f"{receiver.url}/healthz", process)
        return receiver, process

    yield start
    for process in processes:
        process.terminate()
        process.wait(timeout=10)
        process.stderr.close()
