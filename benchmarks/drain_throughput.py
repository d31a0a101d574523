"""Lines per second the drain receiver parses and exports, on one core.

    .venv/bin/python -m benchmarks.drain_throughput [--lines N] [--dynos N] [--batch N]

Feeds Logplex bodies of synthetic Heroku traffic (metrics/drain/synthetic.py: 80% router
lines, runtime metrics and app samples) through the same code a POST /logs runs (frame
split, RFC 5424 header, line parsing, store update), then renders /metrics once per batch
as a scrape would, far more often than Prometheus does. HTTP itself is not included.
"""

import argparse
import time

from prometheus_client.exposition import generate_latest

from metrics.drain import synthetic
from metrics.drain.app import DrainApp
from metrics.drain.frames import frame
from metrics.drain.ingest import ingest_body
from metrics.drain.settings import load


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.drain_throughput")
    parser.add_argument("--lines", type=int, default=500_000)
    parser.add_argument("--dynos", type=int, default=20)
    parser.add_argument("--batch", type=int, default=500, help="lines per Logplex batch")
    parser.add_argument("--scrape-every", type=int, default=100, help="batches between scrapes")
    args = parser.parse_args(argv)

    dynos = [f"web.{n + 1}" for n in range(args.dynos)]
    frames = [frame(m) for m in synthetic.messages(dynos, args.lines)]
    bodies = [b"".join(frames[i : i + args.batch]) for i in range(0, args.lines, args.batch)]
    app = DrainApp(load({}, insecure_no_auth=True))

    started = time.process_time()
    for number, body in enumerate(bodies):
        ingest_body(app.store, body, time.monotonic())
        if number % args.scrape_every == 0:
            generate_latest(app.registry)
    generate_latest(app.registry)
    cpu_seconds = time.process_time() - started

    parsed = sum(app.store.lines_parsed.values())
    assert parsed == args.lines, f"only {parsed} of {args.lines} lines parsed"
    print(
        f"{args.lines} lines ({args.dynos} dynos, {args.batch}-line batches) in "
        f"{cpu_seconds:.2f} CPU s: {args.lines / cpu_seconds:,.0f} lines/s on one core"
    )


if __name__ == "__main__":
    main()
