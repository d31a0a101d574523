"""What every benchmark needs: a PostgreSQL of its own and databases seeded to a size."""

import os
import subprocess
import sys

import psycopg2

from app import embedded_db
from app.process import ROOT

DATA_DIR = ROOT / ".data" / "postgres-bench"


def database(name: str, rows: int) -> str:
    """DATABASE_URL of a database on the benchmark server holding exactly `rows` rows."""
    url = embedded_db.ensure_server(DATA_DIR).rsplit("/", 1)[0] + f"/{name}"
    admin = psycopg2.connect(
        url.rsplit("/", 1)[0].replace("postgres://", "postgresql://") + "/postgres"
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    manage("migrate", "--verbosity", "0", url=url)
    if count_rows(url) != rows:
        print(f"seeding {name} with {rows:,} rows...", flush=True)
        manage("seed_data", "--count", str(rows), "--truncate", url=url)
        with psycopg2.connect(dsn(url)) as conn, conn.cursor() as cursor:
            cursor.execute("ANALYZE content_snippet")
    return url


def dsn(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


def count_rows(url: str) -> int:
    with psycopg2.connect(dsn(url)) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM content_snippet")
        return cursor.fetchone()[0]


def manage(*args: str, url: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url},
        check=True,
        stdout=subprocess.DEVNULL,
    )
