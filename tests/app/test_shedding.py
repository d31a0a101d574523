"""Requests that waited past QUEUE_TIME_BUDGET are answered 503 at once, on a real dyno."""

import re
import time

import pytest
import requests

from tests.app.held_page import PAGE, answer, page_lock, send
from tests.conftest import running_app

BUDGET = 1


@pytest.fixture(scope="module")
def dyno(seeded):
    with running_app(seeded, QUEUE_TIME_BUDGET=str(BUDGET), WAITRESS_THREADS="1") as url:
        yield url


def shed_count(base: str) -> float:
    text = requests.get(f"{base}/metrics", timeout=15).text
    return float(re.search(r"^http_requests_shed_total (\S+)$", text, re.M).group(1))


def stamped(seconds_ago: float) -> dict:
    return {"X-Request-Start": f"t={int((time.time() - seconds_ago) * 1000)}"}


def test_a_request_the_router_stamped_past_the_budget_gets_a_503_with_retry_after(dyno):
    before = shed_count(dyno)
    old = requests.get(f"{dyno}/", headers=stamped(BUDGET + 5), timeout=15)
    assert (old.status_code, old.headers["Retry-After"]) == (503, "1")
    assert requests.get(f"{dyno}/", headers=stamped(0), timeout=15).status_code == 200
    # The metrics are how the overload is seen: never shed.
    assert requests.get(f"{dyno}/metrics", headers=stamped(60), timeout=15).status_code == 200
    assert shed_count(dyno) == before + 1


def test_without_a_stamp_the_wait_in_waitress_s_queue_counts(dyno, seeded):
    port = int(dyno.rsplit(":", 1)[1])
    with page_lock(seeded) as lock:
        lock.take()
        first = send(port, PAGE)
        queued = send(port, PAGE)  # waits for the one thread, held by the first
        time.sleep(BUDGET + 0.5)  # makes the wait longer than the budget, whatever the host
        lock.release()
    with first, queued:
        status, body, _ = answer(first)
        assert (status, len(body)) == (200, 140)
        status, body, _ = answer(queued)
        assert status == 503 and b"waited too long" in body, body
