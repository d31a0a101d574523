"""Run the app as a real Waitress process on a free loopback port.

Used by the tests, the benchmarks and the load-test runner, so that all of them exercise
the app exactly as the Procfile's ``web:`` line starts it.
"""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_http(url: str, process: subprocess.Popen | None = None, timeout: float = 30) -> None:
    """Wait until url answers at all (any status), or fail if the process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(
                f"{' '.join(map(str, process.args))} exited with {process.returncode}"
            )
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


def stop(process: subprocess.Popen, timeout: float = 15) -> int:
    """SIGTERM, as Heroku sends it; SIGKILL only if it does not exit in time."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


@contextmanager
def running_app(
    database_url: str,
    port: int | None = None,
    log=subprocess.DEVNULL,
    command: Callable[[int], list[str]] | None = None,
    **env: str,
) -> Iterator[str]:
    """Serve the app against database_url, with Waitress as the Procfile does unless `command`
    gives another server's command line for a port; yields its base URL."""
    port = port or free_port()
    process = subprocess.Popen(
        command(port) if command else [sys.executable, "-m", "app.serve", "--port", str(port)],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{base}/healthz", process)
        yield base
    finally:
        stop(process)
