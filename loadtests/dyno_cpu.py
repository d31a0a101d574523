"""A dyno's share of CPU: each local dyno runs in a Linux cgroup of its own with a CPU quota.

A Heroku dyno gets a share of a machine's cores; a local dyno would otherwise get the whole
laptop, serve several times what the seed's dyno served, and a second dyno would add nothing
the first could not already do (test 7 against test 6). With every dyno capped at the same
fraction of a core, one dyno saturates at the seed's users, and two serve twice what one can,
as on Heroku, whatever else (Locust, Caddy, PostgreSQL) runs on the machine.

The quota is the kernel's CFS bandwidth control: cgroup v2's `cpu.max`, or v1's
`cpu.cfs_quota_us` / `cpu.cfs_period_us`. Creating a cgroup needs root (or a delegated
subtree); where that is not possible the run says why in one line and the dynos share the
machine's CPU.

The share is sized to the machine (`sized_cores`): a request's CPU moves with the host, and
a fixed fraction of a core that made one dyno saturate where the seed's did on one machine
(0.35, with requests at 0.7-0.8 ms of CPU) let it serve half as much again on a faster one
(0.55 ms), where the seed's symptoms faded. The runner times a fixed piece of Python shaped
like a request's work and scales the reference share by how much slower or faster this
machine runs it than the machine where the reference was measured.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from loadtests import lifeline

CGROUP_ROOT = Path("/sys/fs/cgroup")
# One local dyno, in cores, on the machine where REFERENCE_WORK_S was measured (2 cores,
# 2026-11-27): the share at which one Waitress dyno saturates where the seed's did. There,
# test 6 (10,000 users) served 25,438 req/min at 12.0 s on average (the seed: 21,500 at 9 s)
# and test 7's two dynos 37,701 req/min at 4 ms (the seed: 36,000 at 215 ms), as 0.35 of a
# core had on the slower machine of the tables in loadtests/README.md ("One dyno, one share
# of CPU").
REFERENCE_CORES = 0.25
# host_work_seconds() on that machine, quiet (10.0-10.3 ms in five runs).
REFERENCE_WORK_S = 0.0101
# A sized share stays within these: below, CFS's 100 ms period leaves a dyno mostly stopped;
# above, the machine would be too slow to host two dynos beside Locust.
MIN_CORES, MAX_CORES = 0.1, 1.0
# CFS's default accounting period; the quota is this share of it.
PERIOD_US = 100_000
# A dyno's weight against everything else on the machine, as a multiple of a process's: a
# Heroku dyno gets its share whatever the load generator does, so here a dyno's CPU comes
# before Locust's, up to its quota. Without it a busy Locust kept a dyno below its share.
WEIGHT = 4


def _request_shaped_work() -> int:
    """Calls, attribute and dict lookups, string building: what Waitress and Django do."""

    class Request:
        def __init__(self, path: str, headers: dict):
            self.path, self.headers, self.meta = path, headers, {}

        def header(self, name: str) -> str:
            return self.headers.get(name.lower(), "")

    total = 0
    for i in range(1200):
        request = Request(f"/page/{i}", {f"x-{j}": str(j) for j in range(10)})
        for k in range(25):
            request.meta[f"HTTP_X_{k % 20}"] = request.header(f"X-{k % 10}").upper()
        total += len(request.meta) + sum(len(part) for part in request.path.split("/"))
    return total


def host_work_seconds(tries: int = 15) -> float:
    """The CPU seconds this machine takes for `_request_shaped_work`: the least of `tries`,
    so a moment when other processes share the core does not count."""
    best = float("inf")
    for _ in range(tries):
        started = time.process_time()
        _request_shaped_work()
        best = min(best, time.process_time() - started)
    return best


def cores_for(work_s: float) -> float:
    """The reference share, scaled by how much longer this machine takes for the same work."""
    return round(min(MAX_CORES, max(MIN_CORES, REFERENCE_CORES * work_s / REFERENCE_WORK_S)), 3)


@functools.cache
def sized_cores() -> float:
    """One local dyno's share of CPU on this machine: measured once per process, so the runs
    that `results` compares in turn all get the same share."""
    return cores_for(host_work_seconds())


def cores_argument(text: str) -> float | None:
    """`--dyno-cpu`: `auto` (None: sized to this machine), 0 (no cap) or a share in cores."""
    if text == "auto":
        return None
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= (os.cpu_count() or 1):
        raise argparse.ArgumentTypeError(
            f"must be auto, 0 (no cap) or a share of this machine's {os.cpu_count()} cores, "
            f"got {text!r}"
        )
    return value


class Unavailable(RuntimeError):
    """No CPU controller this process may write to: the reason, in one line."""


@dataclass(frozen=True)
class Hierarchy:
    """Where CPU cgroups are made and how their quota and counters are written."""

    root: Path
    version: int

    def create(self, name: str, cores: float) -> Path:
        path = self.root / name
        path.mkdir()
        quota = max(1000, round(cores * PERIOD_US))
        if self.version == 2:
            (path / "cpu.max").write_text(f"{quota} {PERIOD_US}")
            (path / "cpu.weight").write_text(str(100 * WEIGHT))  # 100: a process's
        else:
            (path / "cpu.cfs_period_us").write_text(str(PERIOD_US))
            (path / "cpu.cfs_quota_us").write_text(str(quota))
            (path / "cpu.shares").write_text(str(1024 * WEIGHT))  # 1024: a process's
        return path


def hierarchy() -> Hierarchy:
    """The writable CPU controller: cgroup v2 at the root, else v1's `cpu` hierarchy."""
    v2_controllers = CGROUP_ROOT / "cgroup.subtree_control"
    v1 = CGROUP_ROOT / "cpu"
    if v2_controllers.exists():
        if "cpu" not in v2_controllers.read_text().split():
            raise Unavailable("cgroup v2 without the cpu controller enabled at its root")
        found = Hierarchy(CGROUP_ROOT, 2)
    elif (v1 / "cpu.cfs_quota_us").exists():
        found = Hierarchy(v1, 1)
    else:
        raise Unavailable(f"no cgroup CPU controller under {CGROUP_ROOT} (Linux only)")
    if not os.access(found.root, os.W_OK):
        raise Unavailable(f"{found.root} is not writable (needs root)")
    return found


@dataclass
class Use:
    """What a dyno's cgroup counted: CFS accounting periods, those in which it hit its quota,
    and the CPU seconds its processes used."""

    periods: int
    throttled: int
    cpu_s: float

    @property
    def held_share(self) -> float:
        """The share of periods the dyno spent held at its quota."""
        return self.throttled / self.periods if self.periods else 0.0

    def __sub__(self, earlier: Use) -> Use:
        return Use(
            self.periods - earlier.periods,
            self.throttled - earlier.throttled,
            self.cpu_s - earlier.cpu_s,
        )


def tree_cpu_s(pid: int) -> float:
    """CPU seconds used by a process and its live children (gunicorn's workers)."""
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0.0
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            times = process.cpu_times()
            total += times.user + times.system
    return total


class CpuLimit:
    """One cgroup capped at `cores`; processes join it as they start (`join`)."""

    def __init__(self, name: str, cores: float):
        self.cores = cores
        self.path = hierarchy().create(name, cores)
        lifeline.watch("cgroup", self.path)

    def command(self, args: list[str]) -> list[str]:
        """`args`, started inside the cgroup: a shell writes its own pid into it, then execs
        the server in its place, so the server and every process it forks (gunicorn's
        workers) are capped from their first instruction. (Moving the pid in from the
        runner after it started would race with those forks.)"""
        return ["sh", "-c", 'echo $$ > "$0" && exec "$@"', str(self.path / "cgroup.procs"), *args]

    def use(self, pid: int) -> Use:
        """The cgroup's counters now, with the CPU time of `pid`'s process tree."""
        stat = dict(
            line.split() for line in (self.path / "cpu.stat").read_text().splitlines() if line
        )
        return Use(
            int(stat.get("nr_periods", 0)), int(stat.get("nr_throttled", 0)), tree_cpu_s(pid)
        )

    def remove(self) -> None:
        """Removes the cgroup once its processes have exited; a lingering one is left alone."""
        with contextlib.suppress(OSError):
            self.path.rmdir()
            lifeline.forget("cgroup", self.path)


def cgroup_name(run_name: str, dyno: str) -> str:
    """A dyno's cgroup: `cce-<runner's pid>-<run>-<dyno>`, so a later run can tell one whose
    runner is gone (`remove_stale`)."""
    return f"cce-{os.getpid()}-{run_name}-{dyno}"


def remove_stale() -> list[str]:
    """Removes the dyno cgroups an earlier runner left (killed before it could): only those
    named by `cgroup_name` whose runner is no longer running, and only empty ones (the
    kernel refuses to remove a cgroup with processes in it). Returns their names."""
    removed = []
    for path in hierarchy().root.glob("cce-*-*"):
        owner = path.name.split("-")[1]
        if not owner.isdigit() or psutil.pid_exists(int(owner)):
            continue
        with contextlib.suppress(OSError):
            path.rmdir()
            removed.append(path.name)
    return removed
