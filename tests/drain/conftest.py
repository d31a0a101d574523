"""Real receivers on loopback for the drain tests: a Waitress server in a thread around a
fresh app, or `python -m metrics.drain` as its own process."""

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

# The repository root, so `metrics` imports when pytest runs without pytest-django (which
# otherwise puts manage.py's folder on the path).
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import waitress  # noqa: E402

from metrics.drain import settings as settings_module  # noqa: E402
from metrics.drain.app import DrainApp  # noqa: E402

from .helpers import PASSWORD, REPO, USERNAME, Receiver, free_port, wait_until_ready  # noqa: E402


@pytest.fixture
def serve_app():
    """Serve a DrainApp with a real Waitress on a free loopback port, in a thread."""
    servers = []

    def start(env=None, **flags) -> tuple[Receiver, DrainApp]:
        base = {"DRAIN_USERNAME": USERNAME, "DRAIN_PASSWORD": PASSWORD}
        app = DrainApp(settings_module.load({**base, **(env or {})}, **flags))
        server = waitress.create_server(app, host="127.0.0.1", port=0, threads=2)
        threading.Thread(target=server.run, daemon=True).start()
        servers.append(server)
        return Receiver(server.effective_port), app

    yield start
    for server in servers:
        server.close()


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
            cwd=REPO,
            env=full_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        processes.append(process)
        receiver = Receiver(port)
        wait_until_ready(f"{receiver.url}/healthz", process)
        return receiver, process

    yield start
    for process in processes:
        process.terminate()
        process.wait(timeout=10)
