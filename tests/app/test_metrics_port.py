"""METRICS_PORT: /metrics answers from its own Waitress while every page thread is held."""

import re

import requests

from tests.app.held_page import PAGE, answer, page_lock, send
from tests.conftest import free_port, running_app


def test_metrics_answer_on_their_port_while_the_page_s_thread_and_queue_are_full(seeded):
    metrics_port = free_port()
    with (
        running_app(seeded, METRICS_PORT=str(metrics_port), WAITRESS_THREADS="1") as url,
        page_lock(seeded) as lock,
    ):
        port = int(url.rsplit(":", 1)[1])
        metrics = f"http://127.0.0.1:{metrics_port}"
        lock.take()
        held = [send(port, PAGE) for _ in range(3)]  # one holds the thread, two wait
        scrape = requests.get(f"{metrics}/metrics", timeout=15)
        assert scrape.status_code == 200
        # It reads the page's server: its one thread is busy.
        assert re.search(r"^waitress_threads_busy 1\.0$", scrape.text, re.M), scrape.text
        assert requests.get(f"{metrics}/", timeout=15).status_code == 404
        lock.release()
        assert [answer(sock)[0] for sock in held] == [200, 200, 200]
        for sock in held:
            sock.close()
