"""metrics.pgbouncer with no PgBouncer answering: pgbouncer_up 0, promptly, and no pool series
(a real PgBouncer's pools are read in tests/loadtests/test_fixes.py, test 4b)."""

import time
import urllib.request

from app.process import free_port
from metrics.pgbouncer import serve
from tests.metrics.scrape import parse


def test_a_pgbouncer_that_does_not_answer_is_pgbouncer_up_0():
    port = free_port()
    server = serve(f"postgres://postgres@127.0.0.1:{free_port()}/pgbouncer", port)
    try:
        started = time.monotonic()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
            text = answer.read().decode()
        assert time.monotonic() - started < 5
    finally:
        server.shutdown()
        server.server_close()
    samples = parse(text)
    assert samples[("pgbouncer_up", frozenset())] == 0
    assert not [name for name, _ in samples if name.startswith("pgbouncer_pools_")]
