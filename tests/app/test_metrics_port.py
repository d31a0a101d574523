"""METRICS_PORT: /metrics answers from its own Waitress while every page thread is held."""

import re
import socket

import psycopg2
import requests

from tests.app.test_draining import PAGE, answer
from tests.conftest import free_port, running_app


def test_metrics_answer_on_their_port_while_the_page_s_thread_and_queue_are_full(seeded):
    metrics_port = free_port()
    holder = psycopg2.connect(seeded.replace("postgres://", "postgresql://", 1))
    held = []
    try:
        with running_app(seeded, METRICS_PORT=str(metrics_port), WAITRESS_THREADS="1") as url:
            port = int(url.rsplit(":", 1)[1])
            metrics = f"http://127.0.0.1:{metrics_port}"
            with holder.cursor() as cursor:  # the page waits for this transaction
                cursor.execute("LOCK TABLE content_snippet IN ACCESS EXCLUSIVE MODE")
            for _ in range(3):  # one holds the thread, two wait in the queue
                held.append(socket.create_connection(("127.0.0.1", port), timeout=30))
                held[-1].sendall(PAGE)
            scrape = requests.get(f"{metrics}/metrics", timeout=15)
            assert scrape.status_code == 200
            # It reads the page's server: its one thread is busy.
            assert re.search(r"^waitress_threads_busy 1\.0$", scrape.text, re.M), scrape.text
            assert requests.get(f"{metrics}/", timeout=15).status_code == 404
            holder.rollback()
            assert [answer(sock)[0] for sock in held] == [200, 200, 200]
    finally:
        holder.close()
        for sock in held:
            sock.close()
