"""Throughput of / with metrics on against metrics off, and /metrics render time.

    python -m benchmarks.metrics_overhead [--users N] [--seconds S] [--rounds N]

Two app processes on the same database (METRICS_ENABLED on and off), each driven in
turn by the same closed-loop Locust run on loopback, alternating for several rounds so
the machine's noise hits both. The figure to read is the ratio (target: at least 0.95).

Throughput moves with whatever else runs on the machine, so each round also reads the CPU
time the app process spent per request (from /proc, via psutil): the cost of the metrics
themselves, which other processes do not disturb. When the app is CPU-bound, throughput
is inversely proportional to it.
"""

import argparse
import csv
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import requests

from app.process import ROOT, running_app
from benchmarks.setup import database

LOCUSTFILE = Path(__file__).with_name("closed_loop_locustfile.py")


def server_process(url: str) -> psutil.Process:
    """The process listening on url's port."""
    port = int(url.rsplit(":", 1)[1])
    for connection in psutil.net_connections(kind="tcp"):
        if connection.status == psutil.CONN_LISTEN and connection.laddr.port == port:
            return psutil.Process(connection.pid)
    raise RuntimeError(f"nothing listens on port {port}")


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def measure(url: str, users: int, seconds: int) -> tuple[float, float]:
    """Requests per second, and the app's CPU milliseconds per request."""
    process = server_process(url)
    cpu_before = cpu_seconds(process)
    rate, requests = throughput(url, users, seconds)
    return rate, (cpu_seconds(process) - cpu_before) * 1000 / requests


def throughput(url: str, users: int, seconds: int) -> tuple[float, int]:
    """Requests per second Locust completed against url, and how many."""
    with tempfile.TemporaryDirectory() as folder:
        prefix = Path(folder) / "run"
        subprocess.run(
            [
                sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
                "--host", url, "-u", str(users), "-r", str(users), "-t", f"{seconds}s",
                "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING",
            ],
            cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        with open(f"{prefix}_stats.csv") as stats:
            total = next(row for row in csv.DictReader(stats) if row["Name"] == "Aggregated")
        assert int(total["Failure Count"]) == 0, f"{total['Failure Count']} requests failed"
        return float(total["Requests/s"]), int(total["Request Count"])


def render_ms(url: str, count: int = 200) -> float:
    session = requests.Session()
    timings = []
    for _ in range(count):
        started = time.perf_counter()
        session.get(f"{url}/metrics", timeout=5).raise_for_status()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    url = database("bench_metrics", 10_000)
    rates: dict[str, list[float]] = {"on": [], "off": []}
    cpu: dict[str, list[float]] = {"on": [], "off": []}
    with (
        running_app(url, METRICS_ENABLED="on") as on_url,
        running_app(url, METRICS_ENABLED="off") as off_url,
    ):
        for _ in range(args.rounds):
            for name, target in (("on", on_url), ("off", off_url)):
                rate, cpu_ms = measure(target, args.users, args.seconds)
                rates[name].append(rate)
                cpu[name].append(cpu_ms)
        metrics_ms = render_ms(on_url)
    on, off = statistics.median(rates["on"]), statistics.median(rates["off"])
    print(f"{args.users} closed-loop users, {args.rounds} rounds of {args.seconds} s each:")
    print(f"  metrics on : {on:7.1f} req/s  (rounds: {', '.join(f'{r:.0f}' for r in rates['on'])})")
    print(
        f"  metrics off: {off:7.1f} req/s  (rounds: {', '.join(f'{r:.0f}' for r in rates['off'])})"
    )
    print(f"  ratio on/off = {on / off:.3f} (target >= 0.95)")
    cpu_on, cpu_off = statistics.median(cpu["on"]), statistics.median(cpu["off"])
    print(f"  app CPU per request: on {cpu_on:.3f} ms, off {cpu_off:.3f} ms")
    print(f"  throughput the CPU cost allows, on/off = {cpu_off / cpu_on:.3f}")
    print(f"  /metrics render time at steady state (median of 200): {metrics_ms:.1f} ms")


if __name__ == "__main__":
    main()
