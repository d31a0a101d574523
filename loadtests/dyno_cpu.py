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
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

import psutil

CGROUP_ROOT = Path("/sys/fs/cgroup")
# One local dyno, in cores. Chosen so one Waitress dyno saturates where the seed's did: at
# 0.35 of a core here, test 6 (10,000 users) served 26,136 req/min at 12.7 s on average (the
# seed: 21,500 at 9 s), and test 7's two dynos 37,213 req/min at 23 ms (the seed: 36,000 at
# 215 ms). loadtests/README.md, "One dyno, one share of CPU", has the runs.
DEFAULT_CORES = 0.35
# CFS's default accounting period; the quota is this share of it.
PERIOD_US = 100_000
# A dyno's weight against everything else on the machine, as a multiple of a process's: a
# Heroku dyno gets its share whatever the load generator does, so here a dyno's CPU comes
# before Locust's, up to its quota. Without it a busy Locust kept a dyno below its share.
WEIGHT = 4


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

    def join(self) -> None:
        """Moves the calling process into the cgroup. Used as a child's pre-exec step, so the
        server and every process it forks (gunicorn's workers) are capped from the start."""
        (self.path / "cgroup.procs").write_text(str(os.getpid()))

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
