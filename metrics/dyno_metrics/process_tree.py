"""``process_*`` for a whole server: gunicorn's arbiter and every worker, as one dyno.

In multiprocess mode prometheus_client's own process collector would describe only the
worker that happens to serve the scrape: a third of a 3-worker dyno's CPU, a different
worker each time. The Dyno CPU panel needs the dyno's, so this sums the process tree from
Linux's /proc: CPU is the arbiter's own, plus what its exited (reaped) workers used
(``cutime``/``cstime``), plus each live worker's, so it only grows as a counter must;
memory and file descriptors are the live processes' sums (shared pages count once per
process, as ``ps`` shows them); the start time and fd limit are the arbiter's. Elsewhere
than Linux nothing is exported rather than something wrong.
"""

import os

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily


def _stat(pid: int) -> list[str]:
    with open(f"/proc/{pid}/stat", "rb") as file:
        text = file.read().decode()
    # The command name (field 2) may hold spaces: fields restart after its ')'.
    return text[text.rindex(")") + 2 :].split()


def _children(pid: int) -> list[int]:
    found = []
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/children") as file:
                found += [int(child) for child in file.read().split()]
        except FileNotFoundError:  # the thread ended meanwhile
            continue
    return found


def _open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def _max_fds(pid: int) -> int | None:
    with open(f"/proc/{pid}/limits") as file:
        for line in file:
            if line.startswith("Max open files"):
                return int(line.split()[3])
    return None


class ProcessTreeCollector:
    def __init__(self, root_pid):
        self._root_pid = root_pid  # a callable: the server's main process

    def describe(self):
        return []

    def collect(self):
        try:
            yield from self._collect(self._root_pid())
        except (OSError, ValueError):  # not Linux, or the server is going away
            return

    def _collect(self, root: int):
        ticks = os.sysconf("SC_CLK_TCK")
        page = os.sysconf("SC_PAGE_SIZE")
        with open("/proc/stat") as file:
            boot = next(float(line.split()[1]) for line in file if line.startswith("btime"))
        # /proc/<pid>/stat after the name: [11] utime [12] stime [13] cutime [14] cstime
        # [19] starttime [20] vsize [21] rss (proc(5), counted from field 3).
        root_stat = _stat(root)
        cpu = sum(int(root_stat[i]) for i in (11, 12, 13, 14))
        memory = int(root_stat[21]) * page
        virtual = int(root_stat[20])
        fds = _open_fds(root)
        for child in _children(root):
            try:
                stat = _stat(child)
                child_fds = _open_fds(child)
            except FileNotFoundError:  # exited between the listing and the read
                continue
            cpu += int(stat[11]) + int(stat[12])
            memory += int(stat[21]) * page
            virtual += int(stat[20])
            fds += child_fds
        yield CounterMetricFamily(
            "process_cpu_seconds_total",
            "CPU time of the server's processes (main and workers, live and exited), seconds.",
            value=cpu / ticks,
        )
        yield GaugeMetricFamily(
            "process_resident_memory_bytes",
            "Resident memory of the server's live processes, summed.",
            value=memory,
        )
        yield GaugeMetricFamily(
            "process_virtual_memory_bytes",
            "Virtual memory of the server's live processes, summed.",
            value=virtual,
        )
        yield GaugeMetricFamily(
            "process_start_time_seconds",
            "Start time of the server's main process since the epoch, seconds.",
            value=boot + int(root_stat[19]) / ticks,
        )
        yield GaugeMetricFamily(
            "process_open_fds", "Open file descriptors of the server's live processes.", value=fds
        )
        limit = _max_fds(root)
        if limit is not None:
            yield GaugeMetricFamily(
                "process_max_fds", "The main process's limit on open file descriptors.", value=limit
            )
