"""metrics.pgbouncer against PgBouncers that do not answer: pgbouncer_up 0 and no pool series,
never a hung scrape (a real PgBouncer's pools under load are read in
tests/loadtests/test_fixes.py, test 4b)."""

import shutil
import signal
import socket
import urllib.request
import uuid

import psutil
import pytest

from app.process import ROOT, free_port
from loadtests.pgbouncer import PgBouncer
from metrics.pgbouncer import serve
from tests.conftest import require_binary
from tests.metrics.scrape import parse, value

HANG = 25  # seconds: far beyond the collector's bounds, so only a hang reaches it


def scrape(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=HANG) as answer:
        return parse(answer.read().decode())


def pool_series(samples: dict) -> list[str]:
    return [name for name, _ in samples if name.startswith("pgbouncer_pools_")]


def test_a_port_that_accepts_and_never_answers_is_pgbouncer_up_0():
    # The kernel completes the handshake (backlog), nothing ever reads: only connect_timeout
    # ends the wait.
    with socket.create_server(("127.0.0.1", 0)) as silent:
        admin_url = f"postgres://postgres@127.0.0.1:{silent.getsockname()[1]}/pgbouncer"
        port = free_port()
        server = serve(admin_url, port)
        try:
            samples = scrape(port)
        finally:
            server.shutdown()
            server.server_close()
    assert value(samples, "pgbouncer_up") == 0
    assert not pool_series(samples)


@pytest.fixture
def pgbouncer():
    """A real PgBouncer; only its admin console is used, so no database behind it. Its files
    live under .data/: as root it runs as another user, who cannot read pytest's tmp_path."""
    require_binary("pgbouncer", "pgbouncer")
    run_dir = ROOT / ".data" / "test-servers" / f"pgbouncer-{uuid.uuid4().hex[:12]}"
    run_dir.mkdir(parents=True)
    run_dir.chmod(0o755)
    bouncer = PgBouncer(run_dir, "postgres://postgres@%2Fnonexistent:5432/cce")
    yield bouncer
    bouncer.stop()
    shutil.rmtree(run_dir, ignore_errors=True)


def test_a_frozen_pgbouncer_is_pgbouncer_up_0_and_back_to_1_when_it_thaws(pgbouncer):
    port = free_port()
    server = serve(pgbouncer.admin_url, port)
    (process,) = [p for p in psutil.Process().children() if p.name() == "pgbouncer"]
    try:
        assert value(scrape(port), "pgbouncer_up") == 1  # the kept connection is open now
        process.send_signal(signal.SIGSTOP)
        try:
            frozen = scrape(port)  # the read on the kept connection hits its deadline
        finally:
            process.send_signal(signal.SIGCONT)
        assert value(frozen, "pgbouncer_up") == 0
        assert not pool_series(frozen)
        assert value(scrape(port), "pgbouncer_up") == 1
    finally:
        server.shutdown()
        server.server_close()
