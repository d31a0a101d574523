"""Fixtures shared by every test folder: the test database, and real app processes.

pytest-django creates the test database (``test_cce``) on the embedded PostgreSQL that
the settings start on import, so the whole suite runs against a real server.
"""

import io
import os
import shutil
import socket
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest

from app.process import ROOT, free_port, running_app, stop, wait_for_http

__all__ = ["ROOT", "free_port", "running_app", "wait_for_http"]

# The committed rules and dashboards are built with the defaults; a developer's own build
# settings (metrics/alerting/config.py) must not make them look out of date.
for _build_setting in ("RUNBOOK_BASE_URL", "APP_JOBS"):
    os.environ.pop(_build_setting, None)


def require_binary(name: str, apt_package: str) -> str:
    """The binary's path. A missing one fails the test, never skips it, with the install hint
    (`make test` installs every package the suite drives)."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} not found: install it with `apt-get install -y {apt_package}`")
    return path


def database_url(settings_dict: dict) -> str:
    host = quote(settings_dict["HOST"], safe="") if settings_dict.get("HOST") else ""
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"postgres://{settings_dict['USER']}@{host}{port}/{settings_dict['NAME']}"


def metrics_as_mounted(folder: Path) -> Path:
    """The compose stack's metrics/ folder as a user runs it: the same prometheus.yml, rules
    and targets (a copy, so a test can add to it), and the secret files git ignores, made
    from their tracked .example. Returns the folder; paths in prometheus.yml are relative."""
    metrics = ROOT / "metrics"
    mirror = folder / "metrics"
    mirror.mkdir()
    (mirror / "rules").symlink_to(metrics / "rules")
    shutil.copytree(metrics / "targets", mirror / "targets")
    shutil.copy(metrics / "prometheus.yml", mirror / "prometheus.yml")
    for example in metrics.glob("*.example"):
        shutil.copy(example, mirror / example.stem)
    return mirror


@contextmanager
def prometheus_over(data_dir: Path) -> Iterator[str]:
    """A real Prometheus reading stored series (a run's, or a post-mortem block), scraping
    nothing, keeping everything however old; yields its URL."""
    binary = require_binary("prometheus", "prometheus")
    config = data_dir.parent / f"{data_dir.name}-replay.yml"
    config.write_text("scrape_configs: []\n")
    port = free_port()
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={data_dir}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--storage.tsdb.retention.time=100y",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:  # /-/ready answers 503 while the blocks load
            assert process.poll() is None, "prometheus exited early"
            try:
                urllib.request.urlopen(f"{url}/-/ready", timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "prometheus did not become ready"
                time.sleep(0.1)
        yield url
    finally:
        stop(process, timeout=30)


@pytest.fixture(scope="session")
def django_db_setup(django_test_environment, django_db_blocker) -> Iterator[None]:
    """The test database, whichever tests run. pytest-django's own sets up only the
    databases that `django_db`-marked tests ask for, so a run of tests that only start
    processes against `test_database_url` (`pytest tests/app/test_manage_commands.py`)
    would get the developer's database, and `seeded` would replace its rows."""
    from django.test.utils import setup_databases, teardown_databases

    with django_db_blocker.unblock():
        databases = setup_databases(verbosity=0, interactive=False, aliases={"default"})
    yield
    with django_db_blocker.unblock():
        teardown_databases(databases, verbosity=0)


@pytest.fixture(scope="session")
def test_database_url(django_db_setup, django_db_blocker) -> str:
    """DATABASE_URL of pytest-django's test database, for processes the tests start."""
    from django.db import connection

    return database_url(connection.settings_dict)


@pytest.fixture(scope="session")
def seeded(test_database_url, django_db_blocker) -> str:
    """2,000 committed rows in the test database, visible to other processes."""
    from django.core.management import call_command

    with django_db_blocker.unblock():
        call_command("seed_data", count="2000", truncate=True, seed=1, stdout=io.StringIO())
    return test_database_url


@pytest.fixture
def pg_data_dir() -> Iterator[Path]:
    """A data folder for a PostgreSQL of the test's own, stopped and removed afterwards.

    It lives under .data/ rather than pytest's tmp_path: PostgreSQL runs as its own user
    when we are root, and pytest's temporary folders are private to root.
    """
    from app import embedded_db

    data_dir = ROOT / ".data" / "test-servers" / uuid.uuid4().hex[:12]
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    yield data_dir
    embedded_db.stop_server(data_dir)
    shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture
def redis_server() -> Iterator["RedisServer"]:
    """A real redis-server of the test's own on a free loopback port."""
    server = RedisServer(free_port())
    server.start()
    yield server
    server.stop()


class RedisServer:
    def __init__(self, port: int):
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self._process = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is missing: apt-get install redis-server (make test does)")
        self._process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
            self._process = None


@pytest.fixture(scope="session")
def app_url(seeded) -> Iterator[str]:
    """One app process for the tests that only read from it."""
    with running_app(seeded) as url:
        yield url
