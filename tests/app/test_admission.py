"""Admission control in Waitress's event loop, on a real dyno with its one thread held.

A stale request behind the router is answered 503 without a thread; while the request at
the head of the task queue has waited past the door's second, new connections are answered
503 at the door (``/metrics`` excepted), and let in again once the queue moves; so is a
connection that waited past it in the kernel's backlog.
"""

import os
import signal
import time

import psutil
import pytest

from app.admission import DOOR_SECONDS
from tests.app.held_page import PAGE, answer, page_lock, send
from tests.app.test_shedding import shed_count, stamped
from tests.conftest import running_app


@pytest.fixture(scope="module")
def dyno(seeded):
    with running_app(seeded, QUEUE_TIME_BUDGET="5", WAITRESS_THREADS="1") as url:
        yield url


def stale_page(seconds_ago: float) -> bytes:
    ((name, value),) = stamped(seconds_ago).items()
    return PAGE.replace(b"\r\n\r\n", f"\r\n{name}: {value}\r\n\r\n".encode())


def test_with_every_thread_busy_a_stale_request_is_answered_503_from_the_event_loop(dyno, seeded):
    port = int(dyno.rsplit(":", 1)[1])
    before = shed_count(dyno)
    with page_lock(seeded) as lock:
        lock.take()
        holding = send(port, PAGE)  # takes the one thread, which waits for the lock
        with send(port, stale_page(60)) as stale:
            # Answered while the only thread is held: no thread, so no Django, ran it.
            status, body, connection = answer(stale)
            assert (status, connection) == (503, "keep-alive"), body
            assert b"waited too long" in body
            # The connection stays open for the router's next request.
            stale.sendall(stale_page(60))
            assert answer(stale)[0] == 503
        lock.release()
    with holding:
        assert answer(holding)[0] == 200
    assert shed_count(dyno) == before + 2


def test_while_the_queue_is_stale_new_connections_get_a_503_at_the_door(dyno, seeded):
    port = int(dyno.rsplit(":", 1)[1])
    before = shed_count(dyno)
    with page_lock(seeded) as lock:
        lock.take()
        holding = send(port, PAGE)
        queued = send(port, PAGE)  # waits for the one thread
        time.sleep(DOOR_SECONDS + 0.5)  # ages it past the door's limit, whatever the host
        with send(port, PAGE) as late:
            # Answered while the only thread is held, and the connection closed.
            status, body, connection = answer(late)
            assert (status, connection) == (503, "close"), body
            assert late.recv(1) == b""
        with send(port, b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n") as scrape:
            scrape.settimeout(0.5)
            with pytest.raises(TimeoutError):  # let in: it waits for the thread
                scrape.recv(1)
            scrape.settimeout(60)
            lock.release()
            assert answer(scrape)[0] == 200
    with holding, queued:
        assert [answer(sock)[0] for sock in (holding, queued)] == [200, 200]
    # The queue moved: the door lets requests in again.
    with send(port, PAGE) as after:
        assert answer(after)[0] == 200
    assert shed_count(dyno) == before + 1


def listening_pid(port: int) -> int:
    (pid,) = {
        c.pid
        for c in psutil.net_connections("tcp")
        if c.laddr.port == port and c.status == "LISTEN"
    }
    return pid


def test_a_connection_that_waited_in_the_backlog_gets_a_503_at_the_door(dyno):
    port = int(dyno.rsplit(":", 1)[1])
    before = shed_count(dyno)
    dyno_pid = listening_pid(port)
    os.kill(dyno_pid, signal.SIGSTOP)  # the dyno stalls (as a dyno starved of CPU does)
    try:
        late = send(port, PAGE)  # the kernel completes the handshake: it waits in the backlog
        time.sleep(DOOR_SECONDS + 0.5)
    finally:
        os.kill(dyno_pid, signal.SIGCONT)
    with late:
        status, body, connection = answer(late)
        assert (status, connection) == (503, "close"), body
    with send(port, PAGE) as fresh:
        assert answer(fresh)[0] == 200
    assert shed_count(dyno) == before + 1
