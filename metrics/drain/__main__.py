"""python -m metrics.drain [--host H] [--port N] [--insecure-no-auth] ...: serve the receiver.

Bad settings end with a one-line error and exit status 2.
"""

import os
import signal
import sys

import waitress

from app.config import OneLineParser, int_from, port_number
from metrics.drain import settings as settings_module
from metrics.drain.app import DrainApp

DEFAULT_PORT = 8088  # metrics/targets/drain.json scrapes this port


def parse_args(argv):
    parser = OneLineParser(
        prog="python -m metrics.drain",
        description="Receive a Heroku HTTPS log drain on POST /logs; serve GET /metrics.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port",
        type=port_number,
        # A string default goes through `type` too, so a bad $PORT is argparse's one-line error.
        default=os.environ.get("PORT") or str(DEFAULT_PORT),
        help=f"port (default $PORT, else {DEFAULT_PORT})",
    )
    parser.add_argument(
        "--insecure-no-auth",
        action="store_true",
        help="accept POST /logs without credentials (local replay only)",
    )
    parser.add_argument(
        "--ttl", type=float, help="seconds before a silent dyno's series expire (default 900)"
    )
    parser.add_argument(
        "--pg-max-connections",
        type=int,
        help="the Heroku Postgres plan's connection limit, when logs do not give it",
    )
    parser.add_argument("--max-dynos", type=int, help="dynos to hold series for (default 500)")
    # 0 threads would accept connections and never answer them.
    parser.add_argument(
        "--threads", type=int_from(1, 1000), default=4, help="Waitress threads (default 4)"
    )
    return parser.parse_args(argv)


def _stop(signum, frame):
    raise SystemExit(0)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        settings = settings_module.load(
            os.environ,
            insecure_no_auth=args.insecure_no_auth,
            ttl=args.ttl,
            pg_max_connections=args.pg_max_connections,
            max_dynos=args.max_dynos,
        )
    except settings_module.SettingsError as error:
        print(f"drain: error: {error}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _stop)
    try:
        server = waitress.create_server(
            DrainApp(settings),
            host=args.host,
            port=args.port,
            threads=args.threads,
            max_request_body_size=settings.max_body_bytes,
            ident="drain",
        )
    except OSError as error:
        print(f"drain: error: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 1
    auth = "basic auth" if settings.auth_required else "NO AUTH (--insecure-no-auth)"
    print(
        f"drain: listening on http://{args.host}:{args.port} (POST /logs with {auth}, "
        "GET /metrics, GET /healthz)",
        flush=True,
    )
    server.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
