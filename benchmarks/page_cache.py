"""CPU per page read: the database query against a Redis read, with two Redis backends.

    python -m benchmarks.page_cache [--reads N] [--rounds N]

On a dyno capped at a share of a core (loadtests/dyno_cpu.py) a request's CPU is its cost:
the cache only makes the page cheaper in CPU if a read from Redis costs the dyno less than the
database read it replaces: the query, and the `SELECT 1` Django's connection health check
(CONN_HEALTH_CHECKS) sends before a request's first query. One process, one database (10,000
rows) and one Redis on loopback; the four reads alternate round by round and each round's
CPU time (not wall time, which the shared machine's noise would swamp) is divided by its
reads. Both Redis backends are instrumented by django-prometheus, as the app runs them.
"""

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.setup import database
from loadtests.redis_server import RedisServer

BACKENDS = {
    "Redis, Django's built-in backend": "django_prometheus.cache.backends.redis.NativeRedisCache",
    "Redis, django-redis (the app's)": "django_prometheus.cache.backends.redis.RedisCache",
}


def cpu_us_per_call(read: Callable[[], object], calls: int) -> float:
    started = time.process_time()
    for _ in range(calls):
        read()
    return (time.process_time() - started) / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reads", type=int, default=5000, help="reads per round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = database("bench_small", 10_000)
    with tempfile.TemporaryDirectory() as folder:
        redis = RedisServer(Path(folder))
        redis.start()
        try:
            results = measure(redis.url, args.reads, args.rounds)
        finally:
            redis.stop()
    # What a cache hit saves: the request's database read, health check included.
    database_us = results["PostgreSQL, as a request reads it"]
    print(f"CPU per page read, median of {args.rounds} rounds of {args.reads:,} reads:")
    for name, us in results.items():
        print(f"  {name:<36} {us:7.1f} µs   x{us / database_us:.2f} of a request's read")


def measure(redis_url: str, reads: int, rounds: int) -> dict[str, float]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "app.settings")
    import django

    django.setup()
    from django.core.cache import CacheHandler
    from django.db import close_old_connections

    from app.content.views import random_row

    def as_a_request_reads() -> object:
        # What Django does at each request's start marks the connection for a health check
        # (CONN_HEALTH_CHECKS), a `SELECT 1` before the request's first query.
        close_old_connections()
        return random_row()

    # The app's timeouts (app/settings.py), in each backend's spelling.
    caches = CacheHandler(
        {
            "native": {
                "BACKEND": BACKENDS["Redis, Django's built-in backend"],
                "LOCATION": redis_url,
                "OPTIONS": {"socket_connect_timeout": 0.25, "socket_timeout": 0.25},
            },
            "django_redis": {
                "BACKEND": BACKENDS["Redis, django-redis (the app's)"],
                "LOCATION": redis_url,
                "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.25, "SOCKET_TIMEOUT": 0.25},
            },
        }
    )
    text = random_row()
    for alias in ("native", "django_redis"):
        caches[alias].set("snippet:0", text)
    reads_by_name = {
        "PostgreSQL, the query alone": random_row,
        "PostgreSQL, as a request reads it": as_a_request_reads,
        "Redis, Django's built-in backend": lambda: caches["native"].get("snippet:0"),
        "Redis, django-redis (the app's)": lambda: caches["django_redis"].get("snippet:0"),
    }
    samples: dict[str, list[float]] = {name: [] for name in reads_by_name}
    for read in reads_by_name.values():  # connections open, code paths warm
        cpu_us_per_call(read, 200)
    for _ in range(rounds):
        for name, read in reads_by_name.items():
            samples[name].append(cpu_us_per_call(read, reads))
    return {name: statistics.median(values) for name, values in samples.items()}


if __name__ == "__main__":
    main()
