"""The services a set-up puts beside the app: a Redis for the page cache (test 9), a PgBouncer
and its pools' exporter (test 4b). Each is the run's own, stopped with the run."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path

from loadtests.processes import free_port
from loadtests.redis_server import RedisServer
from loadtests.setups import Setup


@dataclass
class Services:
    # Settings for the dynos, Heroku config-var style.
    env: dict[str, str]
    redis: RedisServer | None = None
    # Prometheus job -> targets (the pools' exporter: job "pgbouncer").
    scrape_jobs: dict[str, list[str]] = field(default_factory=dict)
    # Sampler target name -> /metrics URL.
    sampled: dict[str, str] = field(default_factory=dict)


def start(stack: contextlib.ExitStack, setup: Setup, run_dir: Path, database_url: str) -> Services:
    """Starts what `setup` needs beside the app; registers each one's stop on `stack`."""
    services = Services(env={"DATABASE_URL": database_url})
    if setup.cache:
        services.redis = RedisServer(run_dir)
        services.redis.start()
        stack.callback(services.redis.stop)
        services.env["REDIS_URL"] = services.redis.url
    if setup.pooler:
        from loadtests.pgbouncer import PgBouncer
        from metrics import pgbouncer as pool_metrics

        bouncer = PgBouncer(run_dir, database_url)
        stack.callback(bouncer.stop)
        # The app's queries go through the pool; the collector's read of pg_stat_activity
        # goes straight to PostgreSQL, so the dashboards show the server's true count.
        services.env["DATABASE_URL"] = bouncer.url
        services.env["METRICS_DATABASE_URL"] = database_url
        port = free_port()
        exporter = pool_metrics.serve(bouncer.admin_url, port)
        stack.callback(exporter.server_close)
        stack.callback(exporter.shutdown)
        services.scrape_jobs["pgbouncer"] = [f"127.0.0.1:{port}"]
        services.sampled["pgbouncer"] = f"http://127.0.0.1:{port}/metrics"
    return services
