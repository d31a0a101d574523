"""What one Waitress process serves behind the router, with every metric on.

    python -m benchmarks.loadtest_capacity [--seconds S] [--steps 10000,13000,16000]

First the seed's test 5 at its full load (5,000 users, 20,000 req/min; target: 0 errors and
an average under the seed's 178 ms), then test 5's set-up at more users, one run per step,
to find the highest load it sustains: 0 errors and a p95 under a second (the HighLatency
alert's threshold; past it the queue, not the work, sets the response time). Every run is
a real `loadtests` run (embedded PostgreSQL capped at 20 connections, Caddy, Prometheus,
Locust) kept in runs/. The Waitress process may use the whole machine, as the performance
target asks (`--dyno-cpu 0`, the default here); `--dyno-cpu 0.35` measures a local dyno of
the load tests instead (loadtests/dyno_cpu.py).
"""

import argparse
import json
import os
from pathlib import Path

from loadtests import scenarios
from loadtests.plan import SERVED_P95_MS
from loadtests.runner import ROOT, RunOptions, locust_workers, run


def one_run(users: int, seconds: int, dyno_cpu: float) -> dict:
    scenario = scenarios.get("5").scaled(users=users, duration_s=seconds)
    options = RunOptions(scenario, ROOT / "runs", None, locust_workers(users))
    options.dyno_cpu = dyno_cpu or None
    run_dir = run(options)
    return json.loads(Path(run_dir, "summary.json").read_text())


def line(label: str, s: dict) -> str:
    return (
        f"| {label} | {s['users']:,} | {s['requests_per_minute']:,} | {s['error_rate']:.2%} "
        f"| {s['avg_ms']:.0f} ms | {s['p95_ms']:.0f} ms | {s['max_ms']:.0f} ms "
        f"| {s['locust_cpu_usage_max_ratio']:.0%} |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.loadtest_capacity")
    parser.add_argument("--seconds", type=int, default=120, help="per run (default 120)")
    parser.add_argument("--steps", default="10000,13000,16000", help="users per capacity step")
    parser.add_argument(
        "--dyno-cpu", type=float, default=0.0, help="cores for the process (0: the machine's)"
    )
    args = parser.parse_args(argv)
    steps = [int(users) for users in args.steps.split(",")]

    rows = [line("test 5, seed load", one_run(5000, args.seconds, args.dyno_cpu))]
    sustained = None
    for users in steps:
        summary = one_run(users, args.seconds, args.dyno_cpu)
        rows.append(line("capacity step", summary))
        if summary["error_rate"] == 0 and summary["p95_ms"] < SERVED_P95_MS:
            sustained = summary
    threads = os.environ.get("WAITRESS_THREADS", "8 (the app's default)")
    cpu = f"{args.dyno_cpu:g} of a core" if args.dyno_cpu else f"all {os.cpu_count()} cores"
    print(f"\nWaitress threads: {threads}; CPU: {cpu}; {args.seconds} s per run\n")
    print("| run | users | req/min | errors | avg | p95 | max | Locust CPU |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    print("\n".join(rows))
    if sustained:
        print(
            f"\nOne Waitress process sustained {sustained['requests_per_minute']:,} req/min "
            f"({sustained['users']:,} users) with 0 errors, p95 {sustained['p95_ms']:.0f} ms."
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
