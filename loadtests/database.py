"""The scenario's database: the embedded PostgreSQL capped as the seed's was, migrated and
seeded, in its own data folder so the cap never restarts the user's default database."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import psycopg2

from app import embedded_db
from loadtests import lifeline

ROOT = Path(__file__).resolve().parent.parent

# Enough rows that the page's random pick is random; the seed's table was small too.
SEED_ROWS = 5000


def data_dir(max_connections: int) -> Path:
    return ROOT / ".data" / f"postgres-{max_connections}"


class ScenarioDatabase:
    """Starts (or reuses) the capped server; `stop()` stops it only if this run started it."""

    def __init__(self, max_connections: int, log_path: Path):
        self._data_dir = data_dir(max_connections)
        self._started_here = not embedded_db.is_running(self._data_dir)
        if self._started_here:
            lifeline.watch("database", self._data_dir)
        # Interrupted while starting, migrating or seeding, it stops what it started.
        try:
            self.url = embedded_db.ensure_server(self._data_dir, max_connections)
            with log_path.open("a") as log:
                self._manage(log, "migrate", "--noinput")
                if self._rows() < SEED_ROWS:
                    self._manage(log, "seed_data", "--count", str(SEED_ROWS), "--truncate")
        except BaseException:
            self.stop()
            raise

    def _manage(self, log, *args: str) -> None:
        subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), *args],
            env={**os.environ, "DATABASE_URL": self.url},
            stdout=log,
            stderr=subprocess.STDOUT,
            check=True,
            cwd=ROOT,
        )

    def _rows(self) -> int:
        with (
            contextlib.closing(psycopg2.connect(self.url)) as connection,
            connection.cursor() as cursor,
        ):
            cursor.execute("SELECT count(*) FROM content_snippet")
            return cursor.fetchone()[0]

    def stop(self) -> None:
        if self._started_here:
            embedded_db.stop_server(self._data_dir)
            lifeline.forget("database", self._data_dir)
