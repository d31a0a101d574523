"""Where a served request's CPU goes: the server's own threads or processes against the app's.

    python -m benchmarks.server_cpu [--seconds S] [--connections N] [--metrics on|off]

The app (metrics off by default: the server's cost, not the instrumentation's) under
Waitress with 8 threads, Waitress with 2 threads, and gunicorn with 3 sync workers, each
driven by the same wrk load as metrics_overhead.py. From /proc, per request: the CPU of
Waitress's main thread (its event loop: accept, read, parse, hand a task over, write) and of
its worker threads (the app, and the task around it), or of gunicorn's arbiter and its
workers, split into user and system time, and the context switches.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from dataclasses import dataclass

import psutil

from benchmarks.metrics_overhead import ROWS, gunicorn_command, running_app, server_process, wrk
from benchmarks.setup import database


@dataclass
class Usage:
    user: float = 0.0
    system: float = 0.0
    switches: int = 0

    def __sub__(self, other: Usage) -> Usage:
        return Usage(
            self.user - other.user, self.system - other.system, self.switches - other.switches
        )


def usage_by_part(server: psutil.Process) -> dict[str, Usage]:
    """CPU seconds and context switches of the server's main thread or process ("server")
    and of the rest (its worker threads or processes, "workers")."""
    parts = {"server": Usage(), "workers": Usage()}
    for member in [server, *server.children(recursive=True)]:
        for thread in member.threads():
            part = "server" if thread.id == server.pid else "workers"
            parts[part].user += thread.user_time
            parts[part].system += thread.system_time
        switches = member.num_ctx_switches()
        part = "server" if member.pid == server.pid else "workers"
        parts[part].switches += switches.voluntary + switches.involuntary
    return parts


SERVERS = {
    "Waitress, 8 threads": ("waitress", {"WAITRESS_THREADS": "8"}),
    "Waitress, 2 threads": ("waitress", {"WAITRESS_THREADS": "2"}),
    "gunicorn, 3 sync workers": ("gunicorn", {}),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--metrics", choices=("on", "off"), default="off")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("error: wrk is missing: apt-get install wrk (make benchmarks does)")
    url = database("bench_metrics", ROWS)
    print(
        f"python -m benchmarks.server_cpu --seconds {args.seconds} --connections "
        f"{args.connections} --metrics {args.metrics}: wrk -t1 -c{args.connections}, "
        f"{ROWS:,} rows; per request"
    )
    print(
        f"  {'server':26} {'req/s':>6} {'main user':>9} {'main sys':>9} {'workers user':>12} "
        f"{'workers sys':>11} {'total':>7} {'switches':>8}"
    )
    for name, (kind, env) in SERVERS.items():
        command = gunicorn_command(3, args.metrics == "on") if kind == "gunicorn" else None
        with running_app(url, command=command, METRICS_ENABLED=args.metrics, **env) as base:
            wrk(base, 2, args.connections)  # warm
            server = server_process(base)
            before = usage_by_part(server)
            count, elapsed, _ = wrk(base, args.seconds, args.connections)
            after = usage_by_part(server)
        main_part, workers = (after[p] - before[p] for p in ("server", "workers"))
        per = 1000 / count  # ms per request for seconds
        total = main_part.user + main_part.system + workers.user + workers.system
        print(
            f"  {name:26} {count / elapsed:6.0f} {main_part.user * per:9.3f} "
            f"{main_part.system * per:9.3f} {workers.user * per:12.3f} "
            f"{workers.system * per:11.3f} {total * per:7.3f} "
            f"{(main_part.switches + workers.switches) / count:8.1f}"
        )


if __name__ == "__main__":
    main()
