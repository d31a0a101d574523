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
from pathlib import Path

from app.process import free_port
from loadtests import interrupts, lifeline
from loadtests.dyno_cpu import CpuLimit

__all__ = ["Process", "StartFailed", "free_port", "port_is_free", "python_module", "stop_all"]

# How long a server may take to answer its first request before the run gives up.
START_TIMEOUT_S = 30
# How long a server may take to exit after SIGTERM (Heroku allows 30 s; ours are quicker).
STOP_TIMEOUT_S = 15


class StartFailed(RuntimeError):
    pass


class Process:
    """A child process whose output goes to a log file in the run folder.

    It is registered for cleanup the moment it exists, before anything waits for it: a run
    that ends early for any reason stops it (`stop_all`), and so does the run's lifeline
    (loadtests.lifeline) should the runner itself die."""

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
        self._stopped = False
        # No preexec_fn: it runs Python between fork and exec, which can deadlock while other
        # threads (the sampler, the Logplex) hold locks. A positive niceness yields the CPU to
        # the others (see loadtests.runner) through `nice`; a CPU limit caps the server as a
        # dyno is capped, joined by a shell that then execs it (CpuLimit.command). Both act
        # before the server's first instruction, so everything it forks is niced and capped.
        if niceness:
            args = ["nice", "-n", str(niceness), *args]
        if cpu_limit:
            args = cpu_limit.command(args)
        with interrupts.deferred():  # started and registered, or neither
            self._popen = subprocess.Popen(
                args,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **(env or {})},
                # Its own session and process group (id: its pid): Ctrl-C in the terminal
                # reaches the runner only, which then stops each child in order.
                start_new_session=True,
            )
            _running.append(self)
            lifeline.watch("group", self.pid)

    @property
    def pid(self) -> int:
        return self._popen.pid

    def poll(self) -> int | None:
        """The exit status once it has exited, else None. It is not reaped until `stop()`:
        until then its pid, its process group's id, cannot be reused, so `stop()` can
        signal the group safely."""
        if self._popen.returncode is not None:
            return self._popen.returncode
        info = os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        if info is None:
            return None
        return info.si_status if info.si_code == os.CLD_EXITED else -info.si_status

    def wait(self, timeout: float) -> int:
        """The exit status; subprocess.TimeoutExpired if it runs beyond `timeout` seconds."""
        if not self._wait_for_exit(timeout):
            raise subprocess.TimeoutExpired(self.name, timeout)
        return self.poll()

    def _wait_for_exit(self, timeout: float, hurry: bool = False) -> bool:
        """Whether it exits within `timeout` (with `hurry`: unless Ctrl-C came twice)."""
        deadline = time.monotonic() + timeout
        while self.poll() is None:
            if time.monotonic() > deadline or (hurry and interrupts.hurry()):
                return False
            time.sleep(0.05)
        return True

    def stop(self) -> int | None:
        """SIGTERM, then SIGKILL to its whole process group if it lingers (at once after a
        second Ctrl-C) or left processes behind; returns the exit status."""
        if self._stopped:
            return self._popen.returncode
        # A first Ctrl-C arriving now is raised once this process is stopped, not half-way.
        with interrupts.deferred():
            if self.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.pid, signal.SIGTERM)
                if not self._wait_for_exit(STOP_TIMEOUT_S, hurry=True):
                    why = (
                        "a second interrupt"
                        if interrupts.hurry()
                        else f"still running {STOP_TIMEOUT_S} s after SIGTERM"
                    )
                    print(f"{self.name}: killed ({why})", file=sys.stderr, flush=True)
            # The group: the server if it lingers, and anything it started and left (a
            # killed gunicorn master's workers). Its unreaped pid keeps the group's id ours.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, signal.SIGKILL)
            self._popen.wait()
            self._stopped = True
            self._log.close()
            _running.remove(self)
            lifeline.forget("group", self.pid)
        return self._popen.returncode

    def wait_until_http_ok(self, url: str, timeout_s: float = START_TIMEOUT_S) -> None:
        """Waits until `url` answers (any HTTP status) or the process dies."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.poll() is not None:
                raise StartFailed(f"{self.name} exited ({self.poll()}); see {self.log_path}")
            try:
                urllib.request.urlopen(url, timeout=2).close()
                return
            except urllib.error.HTTPError:
                return  # it answered
            except OSError:
                time.sleep(0.2)
        raise StartFailed(f"{self.name} did not answer {url} in {timeout_s} s; see {self.log_path}")


# Every Process started and not yet stopped, in the order they started.
_running: list[Process] = []


def stop_all() -> None:
    """Stops, newest first, every process still running: those a run had not yet handed to
    its ordered stops when it was interrupted (one in its readiness wait, say)."""
    for process in reversed(list(_running)):
        process.stop()


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
