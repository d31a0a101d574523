"""Page latency with 10,000 rows against 5,000,000 rows: picking a row must not scan.

    python -m benchmarks.page_latency [--small N] [--large N] [--requests N]

Two databases on the same benchmark server, one app process on each, requests
interleaved one for one, so both see the same machine. The figure to read is the
ratio of the median latencies (target: at most 1.2). For contrast it also times the
naive ``ORDER BY random()`` on the large table.
"""

import argparse
import statistics
import time

import psycopg2
import requests

from app.process import running_app
from benchmarks.setup import database, dsn


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=5_000_000)
    parser.add_argument("--requests", type=int, default=3000)
    args = parser.parse_args()
    small, large = database("bench_small", args.small), database("bench_large", args.large)
    latencies: dict[str, list[float]] = {"small": [], "large": []}
    with running_app(small) as small_url, running_app(large) as large_url:
        sessions = {name: requests.Session() for name in latencies}
        urls = {"small": small_url, "large": large_url}
        for name in latencies:  # warm both: connections open, pages cached alike
            for _ in range(200):
                sessions[name].get(f"{urls[name]}/", timeout=5)
        for _ in range(args.requests):
            for name in latencies:
                started = time.perf_counter()
                response = sessions[name].get(f"{urls[name]}/", timeout=5)
                latencies[name].append(time.perf_counter() - started)
                assert response.status_code == 200 and len(response.text) == 140
    small_ms, large_ms = median_ms(latencies["small"]), median_ms(latencies["large"])
    print(f"GET / over {args.requests:,} interleaved requests each (median):")
    print(f"  {args.small:>10,} rows: {small_ms:.2f} ms")
    print(f"  {args.large:>10,} rows: {large_ms:.2f} ms")
    print(f"  ratio large/small = {large_ms / small_ms:.2f} (target <= 1.2)")
    with psycopg2.connect(dsn(large)) as conn, conn.cursor() as cursor:
        timings = []
        for _ in range(5):
            started = time.perf_counter()
            cursor.execute("SELECT text FROM content_snippet ORDER BY random() LIMIT 1")
            cursor.fetchone()
            timings.append(time.perf_counter() - started)
    print(f"  for contrast, ORDER BY random() on {args.large:,} rows: {median_ms(timings):.0f} ms")


if __name__ == "__main__":
    main()
