"""PgBouncer's pools as Prometheus series, with prometheus-community/pgbouncer_exporter's names.

Read at scrape time with `SHOW POOLS` on PgBouncer's admin console (the database named
`pgbouncer`, as a user listed in `admin_users`), over a connection of its own, kept open.
Every wait is bounded (connect timeout, keepalives and `tcp_user_timeout`, and a client-side
deadline on the read), so a PgBouncer that stops answering gives `pgbouncer_up 0`.
`python -m loadtests run --test 4b` serves these on a port of their own for its Prometheus
(job `pgbouncer`); `serve()` does the same for any PgBouncer.
"""

from __future__ import annotations

import contextlib
import threading

import psycopg2
from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import GaugeMetricFamily

from dyno_metrics.deadline import deadline, tcp_bounds

TIMEOUT_SECONDS = 2
# SHOW POOLS column -> (series, help), as pgbouncer_exporter names them.
POOL_COLUMNS = {
    "cl_active": (
        "pgbouncer_pools_client_active_connections",
        "Client connections linked to a server connection and able to run queries.",
    ),
    "cl_waiting": (
        "pgbouncer_pools_client_waiting_connections",
        "Client connections that sent a query and wait for a server connection.",
    ),
    "sv_active": (
        "pgbouncer_pools_server_active_connections",
        "Server connections linked to a client.",
    ),
    "sv_idle": (
        "pgbouncer_pools_server_idle_connections",
        "Server connections unused and immediately usable for client queries.",
    ),
}


class PgBouncerCollector:
    def __init__(self, admin_url: str):
        self._admin_url = admin_url
        self._connection = None
        self._lock = threading.Lock()

    def describe(self):
        # Static descriptions: registering never connects to PgBouncer.
        up, pools = self._families()
        return [up, *pools.values()]

    @staticmethod
    def _families():
        up = GaugeMetricFamily("pgbouncer_up", "1 when the last SHOW POOLS succeeded.")
        pools = {
            column: GaugeMetricFamily(name, text, labels=["database", "user"])
            for column, (name, text) in POOL_COLUMNS.items()
        }
        return up, pools

    def collect(self):
        up, pools = self._families()
        with self._lock:
            try:
                rows = self._show_pools()
            except psycopg2.Error:
                self._discard_connection()
                rows = None
        up.add_metric([], 0 if rows is None else 1)
        yield up
        if rows is None:
            return
        for row in rows:
            if row["database"] == "pgbouncer":
                continue  # the admin console's own pseudo-pool
            for column, family in pools.items():
                family.add_metric([row["database"], row["user"]], row[column])
        yield from pools.values()

    def _show_pools(self) -> list[dict]:
        if self._connection is None or self._connection.closed:
            self._connection = psycopg2.connect(
                self._admin_url, connect_timeout=TIMEOUT_SECONDS, **tcp_bounds(TIMEOUT_SECONDS)
            )
            # The admin console accepts no transactions.
            self._connection.autocommit = True
        with deadline(self._connection, TIMEOUT_SECONDS), self._connection.cursor() as cursor:
            cursor.execute("SHOW POOLS")
            names = [column.name for column in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def _discard_connection(self):
        if self._connection is not None:
            with contextlib.suppress(psycopg2.Error):
                self._connection.close()
        self._connection = None


def serve(admin_url: str, port: int, address: str = "127.0.0.1"):
    """Serves PgBouncer's pools on http://address:port/metrics; returns the HTTP server."""
    registry = CollectorRegistry()
    registry.register(PgBouncerCollector(admin_url))
    server, _thread = start_http_server(port, address, registry=registry)
    return server
