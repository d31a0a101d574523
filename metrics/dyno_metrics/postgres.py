"""PostgreSQL's own view of its connections, with postgres_exporter's names.

Read at scrape time over a connection of the collector's own, opened once and kept: when
the server is out of connection slots (the seed's fourth test), /metrics still answers
and shows the count at the limit. Every wait is bounded: connecting (``connect_timeout``),
the reads (``statement_timeout`` on a live server, and a client-side deadline for one that
stops answering, ``dyno_metrics.deadline``), and a peer that vanished over TCP (keepalives,
``tcp_user_timeout``). So a database that is down or frozen gives ``pg_up 0`` within a few
seconds instead of hanging the scrape.
"""

import contextlib
import logging
import threading

from django.db.backends.postgresql.psycopg_any import is_psycopg3
from prometheus_client.core import GaugeMetricFamily

from dyno_metrics.deadline import deadline, tcp_bounds

# The driver Django itself uses: psycopg 3 when it is installed, else psycopg2.
if is_psycopg3:
    import psycopg as driver
else:
    import psycopg2 as driver

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 2
# A second past statement_timeout, so a live server answers with its own error first.
DEADLINE_SECONDS = TIMEOUT_SECONDS + 1
# The states postgres_exporter reports, each as a series even at 0, so a panel's lines
# do not vanish when a state empties.
STATES = (
    "active",
    "idle",
    "idle in transaction",
    "idle in transaction (aborted)",
    "fastpath function call",
    "disabled",
)
ACTIVITY = """
    SELECT d.datname, s.state, count(a.pid)
    FROM pg_database d
    CROSS JOIN unnest(%s::text[]) AS s(state)
    LEFT JOIN pg_stat_activity a ON a.datname = d.datname AND a.state = s.state
    WHERE NOT d.datistemplate
    GROUP BY d.datname, s.state
"""


class PostgresCollector:
    def __init__(self, connect_kwargs: dict):
        self._connect_kwargs = {
            **connect_kwargs,
            "connect_timeout": TIMEOUT_SECONDS,
            "application_name": "cce-metrics",
            "options": f"-c statement_timeout={TIMEOUT_SECONDS * 1000}",
            **tcp_bounds(DEADLINE_SECONDS),
        }
        self._connection = None
        self._lock = threading.Lock()

    def describe(self):
        # Static descriptions: without them prometheus-client would call collect() at
        # registration, and every manage.py command would connect to the database.
        return self._families()

    @staticmethod
    def _families():
        return (
            GaugeMetricFamily("pg_up", "1 when the last read of PostgreSQL's activity succeeded."),
            GaugeMetricFamily(
                "pg_stat_activity_count",
                "Server-side connections by database and state.",
                labels=["datname", "state"],
            ),
            GaugeMetricFamily("pg_settings_max_connections", "The server's connection limit."),
        )

    def collect(self):
        up, activity, max_connections = self._families()
        if not self._lock.acquire(timeout=TIMEOUT_SECONDS * 2):
            up.add_metric([], 0)
            yield up
            return
        try:
            rows, limit = self._read()
        except driver.Error as error:
            logger.warning("pg_up 0: %s", first_line(error))
            self._discard_connection()
            up.add_metric([], 0)
            yield up
            return
        finally:
            self._lock.release()
        up.add_metric([], 1)
        for datname, state, count in rows:
            activity.add_metric([datname, state], count)
        max_connections.add_metric([], limit)
        yield from (up, activity, max_connections)

    def _read(self):
        if self._connection is None or self._connection.closed:
            self._connection = driver.connect(**self._connect_kwargs)
            self._connection.autocommit = True
        with deadline(self._connection, DEADLINE_SECONDS), self._connection.cursor() as cursor:
            cursor.execute(ACTIVITY, [list(STATES)])
            rows = cursor.fetchall()
            cursor.execute("SELECT setting::int FROM pg_settings WHERE name = 'max_connections'")
            (limit,) = cursor.fetchone()
        return rows, limit

    def _discard_connection(self):
        if self._connection is not None:
            with contextlib.suppress(driver.Error):
                self._connection.close()
        self._connection = None


def first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def connect_kwargs_from_settings(database: dict) -> dict:
    """libpq keyword arguments (psycopg 3 and psycopg2 take the same) for a DATABASES entry."""
    kwargs = {
        "dbname": database["NAME"],
        "user": database.get("USER") or None,
        "password": database.get("PASSWORD") or None,
        "host": database.get("HOST") or None,
        "port": database.get("PORT") or None,
    }
    sslmode = database.get("OPTIONS", {}).get("sslmode")
    if sslmode:
        kwargs["sslmode"] = sslmode
    return {key: value for key, value in kwargs.items() if value is not None}
