"""On Heroku, log the key per-dyno gauges as l2met ``sample#`` lines every few seconds.

Scraping /metrics through Heroku's router reaches a random dyno; the log drain sees every
dyno's lines, labelled by its ``source``. The drain receiver (metrics/drain) turns these
into ``heroku_app_<name>{dyno}`` series. Line format:

    source=web.1 sample#waitress_queue_depth=0 sample#waitress_threads_busy=3
        sample#waitress_threads=8 sample#waitress_connections=5 sample#django_db_connections_open=4

(one line; wrapped here).
"""

import sys
import threading

from dyno_metrics import connections, waitress

INTERVAL_SECONDS = 5.0


def line(dyno: str, server) -> str:
    snapshot = waitress.read(server)
    samples = {
        "waitress_queue_depth": snapshot.queue_depth,
        "waitress_threads_busy": snapshot.threads_busy,
        "waitress_threads": snapshot.threads,
        "waitress_connections": snapshot.connections,
        "django_db_connections_open": connections.count_open(),
    }
    return f"source={dyno} " + " ".join(f"sample#{k}={v}" for k, v in samples.items())


def start(dyno: str, server, stop: threading.Event, stream=sys.stdout) -> threading.Thread:
    def report():
        while not stop.wait(INTERVAL_SECONDS):
            print(line(dyno, server), file=stream, flush=True)

    thread = threading.Thread(target=report, name="l2met", daemon=True)
    thread.start()
    return thread
