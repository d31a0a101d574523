"""The connection budget: how many database connections a deployment can open, against the limit.

Every Waitress thread, gunicorn sync worker or gevent greenlet may hold one connection
(Django keeps one per thread, or greenlet, for CONN_MAX_AGE), and every app process adds one
for its metrics collector: a dyno of 3 gunicorn workers × 5 threads opens up to 18. Behind a
pooler, PostgreSQL sees only the pool. Heroku's own article on Django concurrency puts it as
"5 connections per dyno → only 4 dynos" on a 20-connection plan.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# The metrics collector's own connection (metrics/dyno_metrics/postgres.py), one per app process.
COLLECTOR_CONNECTIONS = 1


@dataclass(frozen=True)
class Deployment:
    dynos: int
    processes_per_dyno: int  # gunicorn workers; 1 for Waitress
    connections_per_process: int  # Waitress threads, gevent worker connections, 1 for sync
    pool_size: int | None = None  # a pooler's server connections, if one sits in between
    describe_server: str = ""

    @property
    def app_connections(self) -> int:
        """What the app side can open: to PostgreSQL, or to the pooler when there is one."""
        per_process = self.connections_per_process + COLLECTOR_CONNECTIONS
        return self.dynos * self.processes_per_dyno * per_process

    @property
    def database_connections(self) -> int:
        return self.app_connections if self.pool_size is None else self.pool_size

    def per_dyno(self) -> int:
        return self.app_connections // self.dynos


@dataclass(frozen=True)
class Verdict:
    deployment: Deployment
    limit: int

    @property
    def fits(self) -> bool:
        return self.deployment.database_connections <= self.limit

    @property
    def max_dynos(self) -> int:
        """The most dynos of this size the limit allows (a pooler makes it unbounded)."""
        if self.deployment.pool_size is not None:
            return self.deployment.dynos if self.fits else 0
        return self.limit // self.deployment.per_dyno()

    def line(self) -> str:
        d = self.deployment
        if d.pool_size is not None:
            shape = (
                f"{d.app_connections} app connections to the pooler, "
                f"{d.pool_size} server connections"
            )
        else:
            shape = (
                f"{d.dynos} dyno(s) × {d.per_dyno()} connections "
                f"({d.describe_server} + {COLLECTOR_CONNECTIONS} metrics collector per process) "
                f"= {d.database_connections}"
            )
        if self.fits:
            return f"connection budget: {shape} ≤ limit {self.limit}: fits"
        advice = (
            f"at most {self.max_dynos} dyno(s) of this size, fewer threads, or a pooler (PgBouncer)"
            if d.pool_size is None
            else "a pool no larger than the limit"
        )
        return f"connection budget: {shape} > limit {self.limit}: does not fit ({advice})"


def dynos_for(target_rpm: float, rpm_per_dyno: float) -> int:
    return max(1, math.ceil(target_rpm / rpm_per_dyno))


def redis_line(deployment: Deployment, limit: int | None) -> tuple[str, bool]:
    """The Redis side of the budget, and whether it fits. django-redis keeps a pool per process
    that hands each concurrent command a connection of its own, so every thread of every process
    may hold one: dynos × processes × threads."""
    d = deployment
    connections = d.dynos * d.processes_per_dyno * d.connections_per_process
    shape = (
        f"redis budget: {d.dynos} dyno(s) × {connections // d.dynos} connections = {connections}"
    )
    if limit is None:
        return (
            f"{shape}; give --redis-limit (your plan's max connections: `heroku redis:info`, or "
            "sample#max-connections in its log lines) to check it",
            True,
        )
    if connections <= limit:
        return f"{shape} ≤ limit {limit}: fits", True
    return (
        f"{shape} > limit {limit}: does not fit (fewer threads or dynos, or a larger plan)",
        False,
    )
