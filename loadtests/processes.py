"""Starting and stopping the servers a run needs, each a child process with its own log."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from app.process import free_port
from loadtests.dyno_cpu import CpuLimit

__all__ = [
    "NO_REDIRECTS",
    "Process",
    "StartFailed",
    "free_port",
    "port_is_free",
    "python_module",
]

# How long a server may take to answer its first request before the run gives up.
START_TIMEOUT_S = 30
# How long a server may take to exit after SIGTERM (Heroku allows 30 s; ours are quicker).
STOP_TIMEOUT_S = 15


class StartFailed(RuntimeError):
    pass


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args):
        return None  # the 3xx comes back as an HTTPError


# Opens a URL without following redirects: a redirect is an answer, and following one (to an
# https:// no one serves on loopback, say) would hide it behind a handshake that never ends.
NO_REDIRECTS = urllib.request.build_opener(_NoRedirects)


class Process:
    """A child process whose output goes to a log file in the run folder."""

    def __init__(
        self,
        name: str,
        args: list[str],
        log_path: Path,
        env: dict | None = None,
        niceness: int = 0,
        cpu_limit: CpuLimit | None = None,
    ):
        self.name = name
        self.log_path = log_path
        self._log = open(log_path, "ab")  # noqa: SIM115 - closed in stop()
        self._popen = subprocess.Popen(
            args,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
            # Its own process group: Ctrl-C in the terminal reaches the runner only, which
            # then stops each child in order.
            start_new_session=True,
            preexec_fn=_before_exec(niceness, cpu_limit),
        )

    @property
    def pid(self) -> int:
        return self._popen.pid

    def poll(self) -> int | None:
        return self._popen.poll()

    def wait(self, timeout: float | None = None) -> int:
        return self._popen.wait(timeout)

    def stop(self) -> int | None:
        """SIGTERM, then SIGKILL if it lingers; returns the exit status."""
        if self._popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self._popen.send_signal(signal.SIGTERM)
            try:
                self._popen.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self._popen.kill()
                self._popen.wait()
        self._log.close()
        return self._popen.returncode

    def wait_until_http_ok(self, url: str, timeout_s: float = START_TIMEOUT_S) -> None:
        """Waits until `url` answers (any HTTP status) or the process dies."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.poll() is not None:
                raise StartFailed(f"{self.name} exited ({self.poll()}); see {self.log_path}")
            try:
                NO_REDIRECTS.open(url, timeout=2).close()
                return
            except urllib.error.HTTPError:
                return  # it answered
            except OSError:
                time.sleep(0.2)
        raise StartFailed(f"{self.name} did not answer {url} in {timeout_s} s; see {self.log_path}")


def _before_exec(niceness: int, cpu_limit: CpuLimit | None) -> Callable[[], None] | None:
    """What the child does before it becomes the server: a positive niceness yields the CPU
    to the others (see loadtests.runner); a CPU limit caps it as a dyno is capped."""
    if not niceness and not cpu_limit:
        return None

    def prepare() -> None:
        if niceness:
            os.nice(niceness)
        if cpu_limit:
            cpu_limit.join()

    return prepare


def port_is_free(port: int) -> bool:
    """Whether a server could bind `port` on every interface now: as servers do, with
    SO_REUSEADDR, so connections of an earlier run still in TIME_WAIT do not count."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("0.0.0.0", port))
        except OSError:
            return False
    return True


def python_module(module: str, *args: str) -> list[str]:
    """The command line that runs `python -m module` with this interpreter."""
    return [sys.executable, "-m", module, *args]


def wait_until_listening(process: Process, port: int, timeout_s: float = START_TIMEOUT_S) -> None:
    """Waits until `process` accepts TCP connections on 127.0.0.1:`port`, or dies."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise StartFailed(f"{process.name} exited ({process.poll()}); see {process.log_path}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise StartFailed(f"{process.name} did not listen in {timeout_s} s; see {process.log_path}")
