"""What the instrumentation costs: the app with metrics on against off, driven by wrk.

    python -m benchmarks.metrics_overhead [--pairs N] [--seconds S] [--connections N]
                                          [--server waitress|gunicorn] [--workers N]

Two app processes on one database (METRICS_ENABLED on and off). Each pair runs the same wrk
load against one, then the other (the order alternates from pair to pair, so a slow spell of
the machine hits both sides), and reads from /proc the CPU the app spent and the CPU wrk
spent. Two ratios per pair, on/off: throughput, and the app's CPU per request (which other
processes on the machine disturb far less). The report gives their median and spread, and
wrk's own CPU per request beside the app's: a client that needs a fraction of the server's
CPU per request is not what limits the throughput (a Python load generator on the same cores
often is, and then throughput hides the app's cost).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psutil
import requests

from app.process import running_app
from benchmarks.setup import database

# The rows the issue measured with: enough that the page's query is not answered from one block.
ROWS = 11_000
WRK_REQUESTS = re.compile(r"^\s*(\d+) requests in ", re.MULTILINE)
WRK_FAILURES = re.compile(r"Non-2xx or 3xx responses: (\d+)|Socket errors: .*")


@dataclass(frozen=True)
class Round:
    requests: int
    seconds: float
    app_cpu_s: float
    client_cpu_s: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    @property
    def app_ms(self) -> float:
        return 1000 * self.app_cpu_s / self.requests

    @property
    def client_ms(self) -> float:
        return 1000 * self.client_cpu_s / self.requests


def server_process(url: str) -> psutil.Process:
    """The process listening on url's port. Where several share the socket (gunicorn's
    arbiter and the workers it forked), psutil names one of them: climb to the first."""
    port = int(url.rsplit(":", 1)[1])
    for connection in psutil.net_connections(kind="tcp"):
        if connection.status == psutil.CONN_LISTEN and connection.laddr.port == port:
            process = psutil.Process(connection.pid)
            while (parent := process.parent()) is not None and listens(parent, port):
                process = parent
            return process
    raise RuntimeError(f"nothing listens on port {port}")


def listens(process: psutil.Process, port: int) -> bool:
    try:
        return any(
            c.status == psutil.CONN_LISTEN and c.laddr.port == port
            for c in process.net_connections(kind="tcp")
        )
    except psutil.AccessDenied:
        return False


def tree_cpu_seconds(process: psutil.Process) -> float:
    """CPU (user + system) of a server process and its children (gunicorn's workers)."""
    total = 0.0
    for member in [process, *process.children(recursive=True)]:
        try:
            times = member.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def wrk(url: str, seconds: int, connections: int) -> tuple[int, float, float]:
    """Requests wrk completed against url, the wall seconds, and wrk's own CPU seconds."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", f"{url}/"]
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    output = process.stdout.read()  # to EOF: wrk has exited
    process.stdout.close()
    # wait4, not wait: the child's own resource usage, wrk's CPU.
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.monotonic() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"wrk exited with {process.returncode}:\n{output}")
    failures = WRK_FAILURES.search(output)
    if failures:
        raise RuntimeError(f"wrk saw failures: {failures.group(0)}\n{output}")
    done = WRK_REQUESTS.search(output)
    if done is None:
        raise RuntimeError(f"cannot read wrk's output:\n{output}")
    return int(done.group(1)), elapsed, usage.ru_utime + usage.ru_stime


def measure(url: str, seconds: int, connections: int) -> Round:
    server = server_process(url)
    before = tree_cpu_seconds(server)
    count, elapsed, client_cpu = wrk(url, seconds, connections)
    return Round(count, elapsed, tree_cpu_seconds(server) - before, client_cpu)


def gunicorn_command(workers: int, metrics: bool) -> Callable[[int], list[str]]:
    """gunicorn with sync workers, as Heroku's Django sample runs; with the package's
    configuration (multiprocess mode, busy workers, backlog) only where metrics are on, as a
    user without the package would run it."""
    config = ["-c", "python:dyno_metrics.gunicorn"] if metrics else []
    binary = str(Path(sys.executable).with_name("gunicorn"))
    return lambda port: [
        binary, "app.wsgi", *config, "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
    ]  # fmt: skip


def serving(url: str, server: str, workers: int, metrics: bool):
    """The app with metrics on or off, under Waitress (8 threads) or gunicorn."""
    command = gunicorn_command(workers, metrics) if server == "gunicorn" else None
    return running_app(url, command=command, METRICS_ENABLED="on" if metrics else "off")


def render_ms(url: str, count: int = 200) -> float:
    session = requests.Session()
    timings = []
    for _ in range(count):
        started = time.perf_counter()
        session.get(f"{url}/metrics", timeout=5).raise_for_status()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings) * 1000


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} (min {min(values):.3f}, max {max(values):.3f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=12)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--server", choices=("waitress", "gunicorn"), default="waitress")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn's sync workers")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("error: wrk is missing: apt-get install wrk (make benchmarks does)")
    url = database("bench_metrics", ROWS)
    rounds: dict[str, list[Round]] = {"on": [], "off": []}
    with (
        serving(url, args.server, args.workers, metrics=True) as on_url,
        serving(url, args.server, args.workers, metrics=False) as off_url,
    ):
        targets = {"on": on_url, "off": off_url}
        for target in targets.values():  # warm both: connections, caches, the JIT-less paths
            wrk(target, 2, args.connections)
        for pair in range(args.pairs):
            order = ("on", "off") if pair % 2 == 0 else ("off", "on")
            for name in order:
                rounds[name].append(measure(targets[name], args.seconds, args.connections))
        metrics_ms = render_ms(on_url)
    pairs = list(zip(rounds["on"], rounds["off"], strict=True))
    command = (
        f"python -m benchmarks.metrics_overhead --pairs {args.pairs} --seconds {args.seconds} "
        f"--connections {args.connections} --server {args.server}"
    )
    served = (
        f"gunicorn, {args.workers} sync workers"
        if args.server == "gunicorn"
        else "Waitress (8 threads)"
    )
    if args.server == "gunicorn":
        command += f" --workers {args.workers}"
    print(f"{command}: wrk -t1 -c{args.connections}, {ROWS:,} rows, {served}")
    for name in ("on", "off"):
        figures = rounds[name]
        print(
            f"  metrics {name:3}: {statistics.median(r.rate for r in figures):7.0f} req/s, "
            f"app CPU {statistics.median(r.app_ms for r in figures):.3f} ms/request, "
            f"wrk CPU {statistics.median(r.client_ms for r in figures):.3f} ms/request"
        )
    print(f"  throughput on/off:          {spread([on.rate / off.rate for on, off in pairs])}")
    print(f"  app CPU per request on/off: {spread([on.app_ms / off.app_ms for on, off in pairs])}")
    print(f"  /metrics render time (median of 200): {metrics_ms:.1f} ms")


if __name__ == "__main__":
    main()
