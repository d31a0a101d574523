"""Serve the app with Waitress: the Procfile's web process and every local scenario.

    python -m app.serve [--host HOST] [--port PORT]

Configured from the WAITRESS_* settings and PORT. It keeps the Waitress server object so
the metrics can read queue depth, busy threads and open connections, and on SIGTERM it
stops accepting, lets running requests finish (Waitress waits up to 5 s) and exits 0,
well within Heroku's 30 seconds.
"""

import logging
import os
import signal
import sys
import threading

logger = logging.getLogger("app.serve")


def _stop_on_sigterm(signum, frame):
    raise SystemExit(0)


def build_server(host: str, port: int):
    import waitress
    from django.conf import settings

    from app.wsgi import application

    server = waitress.create_server(
        application,
        host=host,
        port=port,
        ident="cce",
        # select() cannot watch more than 1024 sockets; poll() can.
        asyncore_use_poll=True,
        **settings.WAITRESS,
    )
    if settings.METRICS_ENABLED:
        from dyno_metrics.collectors import watch_waitress

        watch_waitress(server)
    return server


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
        server = build_server(host, port)
    except OSError as error:
        print(f"error: cannot listen on {host}:{port}: {error.strerror}", file=sys.stderr)
        return 2

    stop = threading.Event()
    if settings.ON_HEROKU and settings.METRICS_ENABLED:
        from dyno_metrics import l2met

        l2met.start(settings.DYNO, server, stop)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    logger.info(
        "serving on %s with %d threads", listening_urls(server), settings.WAITRESS["threads"]
    )
    try:
        server.run()  # returns after SIGTERM or Ctrl-C, once its threads are shut down
    finally:
        stop.set()
        server.close()
        from django.db import connections

        connections.close_all()
    logger.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
