"""A real load run (test 5, 50 users) interrupted at several points: Ctrl-C once or twice,
SIGTERM, SIGKILL of the runner. Afterwards nothing it started is left: no process in the
process groups it made, no cgroup, no listening socket, and the database it started is
stopped."""

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from app import embedded_db
from loadtests import dyno_cpu
from loadtests.database import data_dir
from loadtests.scenarios import HEROKU_HOBBY_MAX_CONNECTIONS
from tests.conftest import require_binary
from tests.loadtests.helpers import ROOT

# Generous bounds: each only turns a hang into a failure with a name.
STAGE_TIMEOUT_S = 120
EXIT_TIMEOUT_S = 90
DATABASE = data_dir(HEROKU_HOBBY_MAX_CONNECTIONS)


class WatchedRun:
    """`python -m loadtests run` in its own session, and everything it starts: every
    descendant (with its start time, process group and the ports it listens on), seen every
    few milliseconds until the runner is gone."""

    def __init__(self, runs_root: Path):
        require_binary("prometheus", "prometheus")
        runs_root.mkdir()
        self.runs_root = runs_root
        self.runner = subprocess.Popen(
            [sys.executable, "-m", "loadtests", "run", "--test", "5", "--users", "50",
             "--duration", "10", "--runs-dir", str(runs_root)],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            start_new_session=True,
        )  # fmt: skip
        self.seen: dict[int, psutil.Process] = {}
        self.groups: set[int] = set()
        self.ports: set[int] = set()
        self._watching = True
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        root = psutil.Process(self.runner.pid)
        while self._watching:
            with contextlib.suppress(psutil.Error, OSError):
                for child in root.children(recursive=True):
                    if child.pid not in self.seen:
                        self.seen[child.pid] = child
                        self.groups.add(os.getpgid(child.pid))
                # One reading of the machine's sockets, not one per process: cheaper on a
                # machine with many connections.
                for socket in psutil.net_connections(kind="inet"):
                    if socket.status == psutil.CONN_LISTEN and socket.pid in self.seen:
                        self.ports.add(socket.laddr.port)
            time.sleep(0.02)

    @property
    def run_dir(self) -> Path | None:
        found = list(self.runs_root.iterdir())
        return found[0] if found else None

    def wait_for(self, what: str, found: Callable[[], object]) -> object:
        deadline = time.monotonic() + STAGE_TIMEOUT_S
        while time.monotonic() < deadline:
            if value := found():
                return value
            assert self.runner.poll() is None, f"the run ended before {what}: {self.finish()}"
            time.sleep(0.002)
        pytest.fail(f"no {what} within {STAGE_TIMEOUT_S} s")

    def child(self, marker: str) -> psutil.Process:
        """The runner's descendant whose command line holds `marker`, once it exists."""

        def match():
            for child in psutil.Process(self.runner.pid).children(recursive=True):
                with contextlib.suppress(psutil.Error, OSError):
                    if marker in " ".join(child.cmdline()):
                        return child
            return None

        return self.wait_for(f"process {marker!r}", match)

    def frozen_at_new_child(self, log: str, marker: str) -> psutil.Process:
        """The runner's child whose command line holds `marker`, caught as it starts: the
        moment its log file appears (just before it starts) the runner is frozen (SIGSTOP),
        so it cannot see the child answer while the test looks for it. The runner stays
        frozen until `resume()`."""
        self.wait_for(log, lambda: self.run_dir and (self.run_dir / log).exists())
        deadline = time.monotonic() + STAGE_TIMEOUT_S
        while time.monotonic() < deadline:
            self.signal(signal.SIGSTOP)
            for child in psutil.Process(self.runner.pid).children():
                with contextlib.suppress(psutil.Error, OSError):
                    if marker in " ".join(child.cmdline()):
                        return child
            self.resume()  # frozen between opening the log and starting the child
            time.sleep(0.001)
        pytest.fail(f"no process {marker!r} after {log} appeared")

    def resume(self) -> None:
        self.signal(signal.SIGCONT)

    def signal(self, signum: int) -> None:
        os.kill(self.runner.pid, signum)

    def finish(self) -> str:
        """Waits for the runner to exit; its stderr."""
        try:
            _, stderr = self.runner.communicate(timeout=EXIT_TIMEOUT_S)
        finally:
            self.exited_at = time.time()
            self._watching = False
            self._thread.join()
        return stderr

    def left_behind(self) -> list[str]:
        """What is still there of the run: processes in its process groups (or started by it),
        its cgroups, sockets listening on its ports."""
        groups = self.groups - {os.getpgid(0)}
        left = []
        for process in psutil.process_iter(["pid", "cmdline", "status"]):
            with contextlib.suppress(psutil.Error, OSError):
                ours = os.getpgid(process.pid) in groups or (
                    process.pid in self.seen and self.seen[process.pid].is_running()
                )
                if ours and process.status() != psutil.STATUS_ZOMBIE:
                    left.append(f"process {process.pid}: {' '.join(process.cmdline())[:120]}")
        with contextlib.suppress(dyno_cpu.Unavailable):
            root = dyno_cpu.hierarchy().root
            left += [f"cgroup {path}" for path in root.glob(f"cce-{self.runner.pid}-*")]
        for socket in psutil.net_connections(kind="inet"):
            if socket.status == psutil.CONN_LISTEN and socket.laddr.port in self.ports:
                with contextlib.suppress(psutil.Error, OSError):
                    owner = psutil.Process(socket.pid)
                    if owner.create_time() <= self.exited_at:  # not a newcomer on the port
                        left.append(f"port {socket.laddr.port}: {owner.name()}")
        return left

    def assert_nothing_left(self, database_was_running: bool) -> None:
        assert self.left_behind() == []
        assert embedded_db.is_running(DATABASE) == database_was_running


def sigterm_pending(pid: int) -> bool:
    """Whether `pid` has a SIGTERM waiting (it is stopped, so not yet handled)."""
    status = Path(f"/proc/{pid}/status").read_text()
    (pending,) = [line.split()[1] for line in status.splitlines() if line.startswith("ShdPnd:")]
    return bool(int(pending, 16) & (1 << (signal.SIGTERM - 1)))


@pytest.fixture
def database_stopped():
    """The run's capped database not running yet: the run starts it, and must stop it."""
    embedded_db.stop_server(DATABASE)


@pytest.fixture
def database_running():
    """The run's capped database running already: the run reuses it and leaves it running."""
    embedded_db.ensure_server(DATABASE, HEROKU_HOBBY_MAX_CONNECTIONS)


@pytest.fixture(scope="module", autouse=True)
def database_as_found():
    """The capped database left as this module found it (stopped, in a fresh checkout)."""
    was_running = embedded_db.is_running(DATABASE)
    yield
    if not was_running:
        embedded_db.stop_server(DATABASE)


def test_sigterm_while_the_database_is_migrated_stops_the_database_it_started(
    database_stopped, tmp_path
):
    run = WatchedRun(tmp_path / "runs")
    run.child("migrate")
    run.signal(signal.SIGTERM)
    stderr = run.finish()
    assert run.runner.returncode == 130, stderr
    assert not list(run.run_dir.glob("web.*.log")), "the dynos started: interrupted too late"
    run.assert_nothing_left(database_was_running=False)


def test_ctrl_c_twice_in_prometheus_readiness_wait_kills_it_at_once(database_running, tmp_path):
    run = WatchedRun(tmp_path / "runs")
    prometheus = run.frozen_at_new_child("prometheus.log", "--storage.tsdb.path")
    # Frozen, it never answers the readiness check, nor the SIGTERM of the first Ctrl-C.
    prometheus.suspend()
    run.signal(signal.SIGINT)
    run.resume()
    # The second Ctrl-C once the stopping has reached Prometheus (its SIGTERM is pending).
    run.wait_for("Prometheus's SIGTERM", lambda: sigterm_pending(prometheus.pid))
    run.signal(signal.SIGINT)
    stderr = run.finish()
    assert run.runner.returncode == 130, stderr
    assert "prometheus: killed (a second interrupt)" in stderr
    assert not (run.run_dir / "locust.out").exists(), "Locust started: interrupted too late"
    run.assert_nothing_left(database_was_running=True)


def test_a_killed_runner_leaves_its_lifeline_to_stop_everything(database_running, tmp_path):
    run = WatchedRun(tmp_path / "runs")
    run.wait_for("the load", lambda: run.run_dir and (run.run_dir / "locust.out").exists())
    run.child("locust")
    lifeline = run.child("loadtests.lifeline")
    run.signal(signal.SIGKILL)
    run.finish()
    assert run.runner.returncode == -signal.SIGKILL
    lifeline.wait(timeout=EXIT_TIMEOUT_S)
    assert run.ports, "no listening port seen: the watch missed the run"
    run.assert_nothing_left(database_was_running=True)
