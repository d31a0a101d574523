"""Overload: an open-loop load at twice one dyno's capacity, then recovery.

    python -m benchmarks.overload [--seconds 120] [--dyno-cpu CORES] [--setups now,before]
                                  [--routes direct,router]

For each set-up and route, on one Waitress dyno capped at a share of a core (as a Heroku
dyno is; loadtests/dyno_cpu.py; 0.25 by default, so that twice its capacity leaves the
open-loop client most of the machine):

1. capacity: `wrk -t1 -c16 -d10s` (Debian's wrk, closed loop) gives C, requests per second;
2. baseline: an open-loop client at C/4 for 10 s gives the median latency;
3. overload: the open-loop client at 2 C for `--seconds`, a new connection per request, each
   client giving up after 10 s (and closing its connection, as a browser does); goodput is
   the 200s received within that time, per second, against C. Meanwhile `/metrics` is
   scraped every second (4 s timeout; those answered within 1 s are counted too), the
   dyno's l2met lines are counted and its CPU read from its cgroup;
4. recovery: the client back at C/4 for 40 s; recovered when a second's median latency is
   back within twice the baseline (5 ms at least) and stays there.

Open loop: requests start on a schedule whatever the answers, as users arrive; a closed loop
(wrk, Locust) slows down with the server and hides a collapse. The client connects with
non-blocking sockets in one asyncio loop, so a SYN that a full backlog dropped is retried by
the kernel while the other requests go on; its own CPU and how late it started requests
against the schedule are printed, to show it was not the limit.

Set-ups: `now` (the defaults: admission control, app/admission.py, with a 5 s
QUEUE_TIME_BUDGET) and `before` (Waitress as it was here: connection_limit 100,
channel_request_lookahead 0, no admission control or queue-time budget).
Routes: `direct`, and `router` behind the local Caddy stand-in (loadtests/router.py), which
stamps X-Request-Start.
"""

import argparse
import asyncio
import os
import re
import resource
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from app.process import ROOT, free_port, stop, wait_for_http
from benchmarks.setup import database
from loadtests import router
from loadtests.dyno_cpu import REFERENCE_CORES, CpuLimit

CLIENT_TIMEOUT = 10.0
PROBE_TIMEOUT = 4.0
RECOVERY_SECONDS = 40
BASELINE_SECONDS = 10
SETUPS = {
    "now": {},
    "before": {
        "WAITRESS_CONNECTION_LIMIT": "100",
        "WAITRESS_CHANNEL_REQUEST_LOOKAHEAD": "0",
        "QUEUE_TIME_BUDGET": "0",
    },
}


@dataclass
class Result:
    scheduled: float
    latency: float
    status: int | str  # an HTTP status, "timeout" or "error"


@dataclass
class Load:
    results: list[Result] = field(default_factory=list)
    lags: list[float] = field(default_factory=list)  # how late each request started
    cpu_s: float = 0.0


async def request(port: int, path: str, timeout: float) -> tuple[int | str, float]:
    started = time.monotonic()
    writer = None
    sock = socket.socket()
    sock.setblocking(False)
    try:
        async with asyncio.timeout(timeout):
            # Non-blocking: a SYN the server's full backlog dropped is retried by the kernel
            # while the other requests go on.
            await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
            reader, writer = await asyncio.open_connection(sock=sock)
            writer.write(
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
            )
            head = await reader.readuntil(b"\r\n\r\n")
            length = re.search(rb"(?i)content-length: *(\d+)", head)
            await reader.readexactly(int(length.group(1)) if length else 0)
            status: int | str = int(head[9:12])
    except TimeoutError:
        status = "timeout"
    except (OSError, asyncio.IncompleteReadError, ValueError):
        status = "error"
    finally:
        if writer is not None:
            writer.close()  # a client that gave up closes its connection
        else:
            sock.close()
    return status, time.monotonic() - started


async def open_loop(port: int, rate: float, seconds: float) -> Load:
    load = Load()
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.monotonic()
    tasks = []

    async def one(scheduled: float) -> None:
        status, latency = await request(port, "/", CLIENT_TIMEOUT)
        load.results.append(Result(scheduled, latency, status))

    for n in range(int(rate * seconds)):
        at = start + n / rate
        delay = at - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        load.lags.append(time.monotonic() - at)
        tasks.append(asyncio.create_task(one(at - start)))
    await asyncio.gather(*tasks)
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    load.cpu_s = (cpu_after.ru_utime - cpu_before.ru_utime) + (
        cpu_after.ru_stime - cpu_before.ru_stime
    )
    return load


async def probe_metrics(port: int, seconds: float) -> list[tuple[int | str, float]]:
    probes = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        probes.append(await request(port, "/metrics", PROBE_TIMEOUT))
        await asyncio.sleep(max(0.0, 1.0 - probes[-1][1]))
    return probes


# Milliseconds since the epoch in 2001: a request the router stamped long ago.
STALE_STAMP = "X-Request-Start: t=1000000000000"


def capacity(port: int, *headers: str) -> float:
    out = subprocess.run(
        ["wrk", "-t1", "-c16", "-d10s", *(f"-H{h}" for h in headers), f"http://127.0.0.1:{port}/"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def median_ms(results: list[Result]) -> float:
    return statistics.median(r.latency for r in results) * 1000 if results else float("nan")


def recovered_after(results: list[Result], limit_ms: float) -> float | None:
    """Seconds into the recovery load from which every second's median is within the limit."""
    by_second: dict[int, list[Result]] = {}
    for r in results:
        if r.status == 200:
            by_second.setdefault(int(r.scheduled), []).append(r)
    seconds = sorted(by_second)
    for first in seconds:
        if all(median_ms(by_second[s]) <= limit_ms for s in seconds if s >= first):
            return float(first)
    return None


def one_setup(name: str, route: str, url: str, cores: float, seconds: int, run_dir: Path) -> dict:
    port, metrics_port = free_port(), free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "METRICS_PORT": str(metrics_port) if name == "now" else "0",
        # Heroku's dyno name turns on the l2met lines the drain reads.
        "DYNO": "web.1",
        "METRICS_PUBLIC": "on",
        "SECRET_KEY": "benchmark",
        "ALLOWED_HOSTS": "127.0.0.1",
        **SETUPS[name],
    }
    limit = CpuLimit(f"cce-overload-{os.getpid()}-{name}-{route}", cores)
    log_path = run_dir / f"{name}-{route}.log"
    with open(log_path, "wb") as log:
        app = subprocess.Popen(
            limit.command(
                [sys.executable, "-m", "app.serve", "--host", "127.0.0.1", "--port", str(port)]
            ),
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    caddy = None
    try:
        wait_for_http(f"http://127.0.0.1:{port}/healthz", app)
        target = port
        if route == "router":
            target = free_port()
            caddy = router.start(run_dir, target, [f"127.0.0.1:{port}"], "127.0.0.1")
            wait_for_http(f"http://127.0.0.1:{target}/healthz")
        capacity_rps = capacity(target)
        # Every request shed at the hand-off (sent to the dyno itself: the router would stamp
        # them anew): what turning one away costs against serving one.
        sheds = SETUPS[name].get("QUEUE_TIME_BUDGET") != "0"
        shed_rps = capacity(port, STALE_STAMP) if sheds else None
        baseline = asyncio.run(open_loop(target, capacity_rps / 4, BASELINE_SECONDS))
        baseline_ms = median_ms([r for r in baseline.results if r.status == 200])
        lines_before = log_path.read_text(errors="replace").count("sample#waitress_queue_depth")

        async def overload_with_probes():
            return await asyncio.gather(
                open_loop(target, 2 * capacity_rps, seconds),
                probe_metrics(metrics_port if name == "now" else port, seconds),
            )

        use_before = limit.use(app.pid)
        overload, probes = asyncio.run(overload_with_probes())
        dyno_use = limit.use(app.pid) - use_before
        log_text = log_path.read_text(errors="replace")
        l2met_lines = log_text.count("sample#waitress_queue_depth") - lines_before
        recovery = asyncio.run(open_loop(target, capacity_rps / 4, RECOVERY_SECONDS))
    finally:
        if caddy is not None:
            caddy.stop()
        exit_code = stop(app, timeout=30)
        limit.remove()
    good = [r for r in overload.results if r.status == 200]
    statuses: dict[str, int] = {}
    for r in overload.results:
        statuses[str(r.status)] = statuses.get(str(r.status), 0) + 1
    limit_ms = max(2 * baseline_ms, 5.0)
    return {
        "setup": name,
        "route": route,
        "capacity_rps": capacity_rps,
        "baseline_ms": baseline_ms,
        "shed_rps": shed_rps,
        "goodput_ratio": len(good) / seconds / capacity_rps,
        "goodput_by_20s": [
            sum(1 for r in good if lo <= r.scheduled < lo + 20)
            / min(20, seconds - lo)
            / capacity_rps
            for lo in range(0, seconds, 20)
        ],
        "good_p50_ms": median_ms(good),
        "statuses": statuses,
        "client_cpu_cores": overload.cpu_s / seconds,
        "dyno_cpu_cores": dyno_use.cpu_s / seconds,
        "dyno_held_share": dyno_use.held_share,
        "client_lag_p99_s": statistics.quantiles(overload.lags, n=100)[98],
        "metrics_ok": sum(1 for status, _ in probes if status == 200),
        "metrics_within_1s": sum(1 for status, t in probes if status == 200 and t <= 1.0),
        "metrics_probes": len(probes),
        "metrics_max_s": max((t for s, t in probes if s == 200), default=float("nan")),
        "l2met_lines": l2met_lines,
        "recovered_after_s": recovered_after(recovery.results, limit_ms),
        "recovery_limit_ms": limit_ms,
        "exit_code": exit_code,
        "queue_warnings": log_text.count("requests wait for a thread")
        + log_text.count("Task queue depth is"),
    }


def report(r: dict, seconds: int) -> str:
    recovered = r["recovered_after_s"]
    shed = r["shed_rps"]
    shed_cost = (
        f"; shed {shed:.0f} req/s (a 503 at the hand-off costs"
        f" {r['capacity_rps'] / shed:.2f} of a page)"
        if shed
        else ""
    )
    return (
        f"{r['setup']:>6} {r['route']:>6}: capacity {r['capacity_rps']:.0f} req/s, baseline"
        f" p50 {r['baseline_ms']:.1f} ms{shed_cost}\n"
        f"    at 2x for {seconds} s: goodput {r['goodput_ratio']:.0%} of capacity"
        f" (by 20 s: {', '.join(f'{g:.0%}' for g in r['goodput_by_20s'])}), p50 of those"
        f" {r['good_p50_ms']:.0f} ms; answers {r['statuses']}\n"
        f"    /metrics: {r['metrics_within_1s']}/{r['metrics_probes']} within 1 s,"
        f" {r['metrics_ok']} within {PROBE_TIMEOUT:.0f} s"
        f" (slowest {r['metrics_max_s']:.2f} s); l2met lines {r['l2met_lines']}"
        f" (one per 5 s: {seconds // 5}); queue-warning lines {r['queue_warnings']}\n"
        f"    dyno {r['dyno_cpu_cores']:.2f} cores, held at its quota in"
        f" {r['dyno_held_share']:.0%} of periods\n"
        f"    recovery at C/4: p50 back under {r['recovery_limit_ms']:.0f} ms "
        + (f"after {recovered:.0f} s" if recovered is not None else "not within 40 s")
        + f"; client {r['client_cpu_cores']:.2f} cores, {r['client_lag_p99_s']:.3f} s"
        f" late (p99); exit {r['exit_code']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=120)
    parser.add_argument("--dyno-cpu", type=float, default=REFERENCE_CORES, help="cores")
    parser.add_argument("--setups", default="now,before")
    parser.add_argument("--routes", default="direct,router")
    parser.add_argument("--rows", type=int, default=10_000)
    args = parser.parse_args()
    cores = args.dyno_cpu
    url = database("bench_small", args.rows)
    run_dir = ROOT / "runs" / f"overload-{time.strftime('%Y%m%d-%H%M%S')}"
    run_dir.mkdir(parents=True)
    print(f"one dyno at {cores} cores; logs in {run_dir}", flush=True)
    for route in args.routes.split(","):
        for name in args.setups.split(","):
            print(report(one_setup(name, route, url, cores, args.seconds, run_dir), args.seconds))
            print(flush=True)


if __name__ == "__main__":
    main()
