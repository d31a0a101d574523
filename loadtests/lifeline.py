"""Cleanup that survives the runner: a small watcher process holding the read end of a pipe.

The runner tells the watcher each thing it starts (a child's process group, a dyno's cgroup,
the database it started, a file it wrote) and each thing it has stopped. If the runner dies
without stopping them (SIGKILL, the OOM killer, a crash of the interpreter), the kernel closes
the pipe, and the watcher stops what is left: SIGTERM to each process group, SIGKILL to any
still there after GRACE_S, then it removes the cgroups and files and stops the database.
After a run that stopped everything itself the watcher finds nothing left and exits.

    python -m loadtests.lifeline      # the watcher: reads "watch|forget KIND VALUE" lines
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil

KINDS = ("group", "cgroup", "database", "file")
# How long the process groups get to exit after SIGTERM before SIGKILL, and after SIGKILL.
GRACE_S = 10
KILL_WAIT_S = 5
# How long the runner waits for the watcher at the end of a clean run.
EXIT_TIMEOUT_S = 30

_pipe = None  # the runner's end, while a lifeline is held


@contextlib.contextmanager
def held(log_path: Path) -> Iterator[None]:
    """Starts the watcher for the duration of the block; `watch` and `forget` talk to it."""
    global _pipe
    with log_path.open("ab") as log:
        watcher = subprocess.Popen(
            [sys.executable, "-m", "loadtests.lifeline"],
            stdin=subprocess.PIPE,
            stdout=log,
            stderr=subprocess.STDOUT,
            # Its own session: a Ctrl-C in the terminal does not reach it, so it outlives
            # the runner to clean up after it.
            start_new_session=True,
        )
    _pipe = watcher.stdin
    try:
        yield
    finally:
        _pipe = None
        watcher.stdin.close()  # the watcher sees the end of its input and checks what is left
        watcher.wait(EXIT_TIMEOUT_S)


def watch(kind: str, value: object) -> None:
    _tell("watch", kind, value)


def forget(kind: str, value: object) -> None:
    _tell("forget", kind, value)


def _tell(verb: str, kind: str, value: object) -> None:
    if _pipe is None:  # no run holds a lifeline (a test starting one process)
        return
    with contextlib.suppress(OSError):  # a dead watcher must not stop the run
        _pipe.write(f"{verb} {kind} {value}\n".encode())
        _pipe.flush()


def _alive(group: int) -> bool:
    """Whether a process of `group` still runs: a zombie (exited, its new parent has not
    reaped it yet) holds nothing and does not count."""
    for process in psutil.process_iter(["status"]):
        with contextlib.suppress(psutil.Error, OSError):
            if os.getpgid(process.pid) == group and process.info["status"] != psutil.STATUS_ZOMBIE:
                return True
    return False


def _signal_groups(groups: set[int], signum: int, wait_s: float) -> set[int]:
    """Sends `signum` to each group; returns those still there after at most `wait_s`."""
    for group in groups:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(group, signum)
    deadline = time.monotonic() + wait_s
    left = set(groups)
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = {group for group in left if _alive(group)}
    return left


def clean_up(left: dict[str, set[str]]) -> None:
    """Stops what the runner left: the process groups first, then what they held."""
    groups = {int(group) for group in left["group"]}
    if groups:
        print(f"the runner is gone: stopping process groups {sorted(groups)}", flush=True)
        still = _signal_groups(groups, signal.SIGTERM, GRACE_S)
        _signal_groups(still, signal.SIGKILL, KILL_WAIT_S)
    for path in left["cgroup"]:
        with contextlib.suppress(OSError):  # not empty, or already gone
            Path(path).rmdir()
    for path in left["file"]:
        Path(path).unlink(missing_ok=True)
    if left["database"]:
        from app import embedded_db

        for data_dir in left["database"]:
            embedded_db.stop_server(Path(data_dir))


def main() -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    left: dict[str, set[str]] = {kind: set() for kind in KINDS}
    for line in sys.stdin.buffer:
        verb, kind, value = line.decode().rstrip("\n").split(" ", 2)
        if verb == "watch":
            left[kind].add(value)
        else:
            left[kind].discard(value)
    clean_up(left)
    return 0


if __name__ == "__main__":
    sys.exit(main())
