"""What one Waitress process serves behind the router, with every metric on.

    python -m benchmarks.loadtest_capacity [--seconds S] [--steps 10000,13000,16000]
                                           [--dyno-cpu CORES] [--with-cache]

First the seed's test 5 at its full load (5,000 users, 20,000 req/min; target: 0 errors and
an average under the seed's 178 ms), then test 5's set-up at more users, one run per step,
to find the highest load it sustains: 0 errors and a p95 under a second (the HighLatency
alert's threshold; past it the queue, not the work, sets the response time). Every run is
a real `loadtests` run (embedded PostgreSQL capped at 20 connections, Caddy, Prometheus,
Locust) kept in runs/. The Waitress process may use the whole machine, as the performance
target asks (`--dyno-cpu 0`, the default here); `--dyno-cpu auto` measures a local dyno of
the load tests instead, its share sized to this machine (loadtests/dyno_cpu.py), and
`--dyno-cpu CORES` one of a given share.

`--with-cache` runs every load twice in turn, without and with test 9's Redis cache on the
same one process, and prints the ratios: what the cache buys one dyno in capacity, the
figure behind test 9 against test 8 (loadtests/README.md).
"""

import argparse
import dataclasses
import json
import os
from pathlib import Path

from loadtests import scenarios
from loadtests.dyno_cpu import cores_argument
from loadtests.plan import SERVED_P95_MS, served
from loadtests.runner import ROOT, RunOptions, locust_workers, run

# The set-ups compared: test 5's Waitress process, and the same with test 9's Redis cache.
PLAIN, CACHED = "waitress", "waitress_redis"


def one_run(users: int, seconds: int, dyno_cpu: float | None, setup: str = PLAIN) -> dict:
    scenario = scenarios.get("5").scaled(users=users, duration_s=seconds)
    options = RunOptions(
        dataclasses.replace(scenario, setup=setup), ROOT / "runs", None, locust_workers(users)
    )
    options.dyno_cpu = dyno_cpu
    run_dir = run(options)
    return json.loads(Path(run_dir, "summary.json").read_text())


def cpu_per_request(s: dict) -> str:
    ms = (s.get("dyno_cpu") or {}).get("ms_per_request")
    return f"{ms:.2f} ms" if ms else "-"


def line(label: str, s: dict) -> str:
    return (
        f"| {label} | {s['setup']} | {s['users']:,} | {s['requests_per_minute']:,} "
        f"| {s['error_rate']:.2%} | {s['avg_ms']:.0f} ms | {s['p95_ms']:.0f} ms "
        f"| {s['max_ms']:.0f} ms | {cpu_per_request(s)} | {s['locust_cpu_usage_max_ratio']:.0%} |"
    )


def capacity(summaries: list[dict]) -> dict | None:
    """The run with the most requests per minute among those the process sustained."""
    sustained = [s for s in summaries if served(s)]
    return max(sustained, key=lambda s: s["requests_per_minute"], default=None)


def more(cached: float | None, plain: float | None) -> str:
    return f"x{cached / plain:.2f}" if cached and plain else "-"


def less(cached: float | None, plain: float | None) -> str:
    return f"/{plain / cached:.1f}" if cached and plain else "-"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.loadtest_capacity")
    parser.add_argument("--seconds", type=int, default=120, help="per run (default 120)")
    parser.add_argument("--steps", default="10000,13000,16000", help="users per capacity step")
    parser.add_argument(
        "--dyno-cpu",
        type=cores_argument,
        default=0.0,
        help="cores for the process (0: the machine's; auto: a local dyno's share)",
    )
    parser.add_argument(
        "--with-cache", action="store_true", help="also run each load with test 9's Redis cache"
    )
    args = parser.parse_args(argv)
    try:
        steps = [int(users) for users in args.steps.split(",")]
    except ValueError:
        parser.error(f"--steps takes whole numbers of users, comma-separated: {args.steps!r}")
    setups = [PLAIN, CACHED] if args.with_cache else [PLAIN]

    loads = [("test 5, seed load", 5000)] + [("capacity step", users) for users in steps]
    runs = {setup: [] for setup in setups}
    rows, comparisons = [], []
    for label, users in loads:
        pair = {}
        for setup in setups:  # in turn at each load, so both see the same machine
            pair[setup] = summary = one_run(users, args.seconds, args.dyno_cpu, setup)
            runs[setup].append(summary)
            rows.append(line(label, summary))
        if args.with_cache:
            plain, cached = pair[PLAIN], pair[CACHED]
            rpm = more(cached["requests_per_minute"], plain["requests_per_minute"])
            comparisons.append(
                f"| {users:,} | {rpm} | {less(cached['avg_ms'], plain['avg_ms'])} "
                f"| {cpu_per_request(plain)} -> {cpu_per_request(cached)} |"
            )

    threads = os.environ.get("WAITRESS_THREADS", "8 (the app's default)")
    cores = runs[PLAIN][0]["dyno_cpu"]["cores"]
    cpu = f"{cores:g} of a core" if cores else f"all {os.cpu_count()} cores"
    print(f"\nWaitress threads: {threads}; CPU: {cpu}; {args.seconds} s per run\n")
    print(
        "| run | set-up | users | req/min | errors | avg | p95 | max | dyno CPU per request "
        "| Locust CPU |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    print("\n".join(rows))
    if comparisons:
        print("\n| users | req/min, cache | average, cache | dyno CPU per request |")
        print("| --- | --- | --- | --- |")
        print("\n".join(comparisons))
    best = {setup: capacity(summaries) for setup, summaries in runs.items()}
    for setup, sustained in best.items():
        if sustained:
            print(
                f"\n{setup}: one process sustained {sustained['requests_per_minute']:,} req/min "
                f"({sustained['users']:,} users) with 0 errors, p95 {sustained['p95_ms']:.0f} ms."
            )
        else:
            print(f"\n{setup}: no step was sustained (0 errors, p95 under {SERVED_P95_MS} ms).")
    if args.with_cache and best[PLAIN] and best[CACHED]:
        gain = best[CACHED]["requests_per_minute"] / best[PLAIN]["requests_per_minute"]
        print(f"The cache's capacity against the database's: x{gain:.2f}.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
