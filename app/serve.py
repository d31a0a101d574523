"""Serve the app with Waitress: the Procfile's web process and every local scenario.

    python -m app.serve [--host HOST] [--port PORT]

Configured from the WAITRESS_* settings and PORT. It keeps the Waitress server object so
the metrics can read queue depth, busy threads and open connections, serves with the
dyno's channel (app.waitress_channel), and on SIGTERM drains: it stops accepting, answers
every request it has accepted and exits 0 within Heroku's 30 seconds (app.draining).
"""

import logging
import os
import sys
import threading

logger = logging.getLogger("app.serve")


def build_server(host: str, port: int):
    import waitress
    from django.conf import settings

    from app.wsgi import application

    server = waitress.create_server(
        with_queue_time_budget(application),
        host=host,
        port=port,
        ident="cce",
        # select() cannot watch more than 1024 sockets; poll() can.
        asyncore_use_poll=True,
        **settings.WAITRESS,
    )
    use_dyno_channel(server)
    if settings.QUEUE_TIME_BUDGET:
        from app import admission

        admission.install(server, settings.QUEUE_TIME_BUDGET)
    summarize_queue_warnings(server)
    if settings.METRICS_ENABLED:
        from dyno_metrics.collectors import watch_waitress

        watch_waitress(server)
    return server


# Files a dyno opens besides its client connections: the listener, the trigger, database and
# Redis connections, logs, Python's own.
OTHER_OPEN_FILES = 100


def fit_open_files(connection_limit: int) -> None:
    """Raise the soft open-files limit so every connection Waitress may accept fits; past it
    accept() fails with EMFILE while the listener stays readable, a busy loop."""
    import resource

    from app.config import SettingError

    needed = connection_limit + OTHER_OPEN_FILES
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return
    if hard != resource.RLIM_INFINITY and hard < needed:
        raise SettingError(
            f"WAITRESS_CONNECTION_LIMIT={connection_limit} needs {needed} open files,"
            f" and this process may open {hard} (ulimit -Hn)"
        )
    resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


def with_queue_time_budget(application):
    from django.conf import settings

    if not settings.QUEUE_TIME_BUDGET:
        return application
    from app.shedding import ShedStaleRequests

    return ShedStaleRequests(application, settings.QUEUE_TIME_BUDGET)


def serve_metrics_port(host: str):
    """The second Waitress answering /metrics on METRICS_PORT, or None when it is 0."""
    from django.conf import settings

    if not (settings.METRICS_ENABLED and settings.METRICS_PORT):
        return None
    from app import metrics_port
    from app.config import SettingError
    from app.wsgi import application

    try:
        return metrics_port.start(application, host, settings.METRICS_PORT)
    except OSError as error:
        raise SettingError(
            f"METRICS_PORT: cannot listen on {host}:{settings.METRICS_PORT}: {error.strerror}"
        ) from None


def use_dyno_channel(server) -> None:
    from app.waitress_channel import Channel

    server.channel_class = Channel


def summarize_queue_warnings(server) -> None:
    from app.log_filters import QueueWarningSummary

    logging.getLogger("waitress.queue").addFilter(QueueWarningSummary(server))


def listening_urls(server) -> str:
    """A URL per address: a host name can have several (localhost on a dual-stack machine,
    127.0.0.1 and ::1), and Waitress then listens on each."""
    addresses = getattr(server, "effective_listen", None) or [
        (server.effective_host, server.effective_port)
    ]
    return " ".join(f"http://[{h}]:{p}" if ":" in h else f"http://{h}:{p}" for h, p in addresses)


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "app.settings")
    from app.config import OneLineParser, SettingError, port_number

    parser = OneLineParser(prog="python -m app.serve", description=__doc__.split("\n")[0])
    parser.add_argument("--host", help="address (default 0.0.0.0 on Heroku, else 127.0.0.1)")
    parser.add_argument("--port", type=port_number, help="port (default: the PORT setting)")
    args = parser.parse_args(argv)

    try:
        import django

        django.setup()
    except SettingError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # .data/ unwritable for the generated SECRET_KEY, and the like
        print(f"error: reading the settings: {error}", file=sys.stderr)
        return 2
    from django.conf import settings

    host = args.host or ("0.0.0.0" if settings.ON_HEROKU else "127.0.0.1")
    port = settings.PORT if args.port is None else args.port
    try:
        fit_open_files(settings.WAITRESS["connection_limit"])
        server = build_server(host, port)
        metrics_server = serve_metrics_port(host)
    except SettingError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"error: cannot listen on {host}:{port}: {error.strerror}", file=sys.stderr)
        return 2

    stop = threading.Event()
    if settings.ON_HEROKU and settings.METRICS_ENABLED:
        from dyno_metrics import l2met
        from dyno_metrics.waitress import l2met_samples

        l2met.start(
            settings.DYNO, lambda: l2met_samples(server), stop, settings.METRICS_LOG_INTERVAL
        )
    logger.info(
        "serving on %s with %d threads", listening_urls(server), settings.WAITRESS["threads"]
    )
    if metrics_server is not None:
        logger.info("serving /metrics also on http://%s:%s", host, metrics_server.effective_port)
    try:
        from app import draining

        draining.serve(server)  # returns after SIGTERM or Ctrl-C, once drained
    finally:
        stop.set()
        server.close()
        if metrics_server is not None:
            metrics_server.close()
        from django.db import connections

        connections.close_all()
    logger.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
