"""``/metrics`` on a listening port of its own, served by a Waitress of its own.

Under overload the page's requests fill Waitress's task queue, and a scrape of ``/metrics``
on ``$PORT`` waits behind them: 62-66% of scrapes failed within 4 s in an overload run, so
the monitoring went dark exactly when it mattered. With ``METRICS_PORT`` set, a second
Waitress server (one thread, its own event loop and queue, in a thread of this process)
answers ``/metrics`` there and nothing else. Prometheus scrapes that port.

On Heroku only ``$PORT`` is routed, so this is for local runs and platforms that can reach
a second port; on Heroku the per-dyno l2met log lines (``dyno_metrics.l2met``) are printed
by a thread of their own and keep flowing through the log drain under overload.
"""

import threading

import waitress

PATH = "/metrics"
NOT_FOUND = b"Not found: this port serves /metrics only.\n"


def only_metrics(application):
    def serve(environ, start_response):
        if environ.get("PATH_INFO") == PATH:
            return application(environ, start_response)
        start_response(
            "404 Not Found",
            [
                ("Content-Type", "text/plain; charset=utf-8"),
                ("Content-Length", str(len(NOT_FOUND))),
            ],
        )
        return [NOT_FOUND]

    return serve


def start(application, host: str, port: int):
    """Starts serving; returns the server (``close()`` it on the way out)."""
    server = waitress.create_server(
        only_metrics(application),
        host=host,
        port=port,
        threads=1,
        ident="cce-metrics",
        asyncore_use_poll=True,
        # A scraper or two: a small limit keeps anything else from piling up here.
        connection_limit=20,
    )
    threading.Thread(target=server.run, name="metrics-port", daemon=True).start()
    return server
