"""Where the instrumentation's cost goes, in microseconds of CPU per request.

    python -m benchmarks.metrics_profile [--mode single|multiprocess] [--rounds N]
                                         [--requests N] [--parts | --cprofile]

In-process: no server, no client. A process set up as the app (on the benchmark's
PostgreSQL, 11,000 rows, as metrics_overhead.py serves it) calls Django's WSGI handler for
``GET /`` in a loop and reads ``time.process_time()``: only its own CPU, which other
processes on a busy machine disturb far less than throughput. One long-lived process per
variant, each knocking one component out of "metrics on"; batches of ``--requests`` run
interleaved, round by round in a rotating order, and a component's cost is the median of
its round-by-round difference to "on", so a slow spell of the machine hits both sides.

``--mode multiprocess`` runs as a gunicorn worker with the package's configuration does:
``PROMETHEUS_MULTIPROC_DIR`` set (every update writes a memory-mapped file) and the
package's ``pre_request``/``post_request`` hooks around each request. ``--parts`` times each
part alone instead (metrics_parts.py), precise to a tenth of a microsecond where the
knock-outs resolve tens. ``--cprofile`` prints the on variant's profile for the
instrumentation's modules (cProfile's own overhead inflates small calls: it shows where,
the other two how much).
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time

from benchmarks.metrics_overhead import ROWS

# Variant: (METRICS_ENABLED, what is knocked out of "on").
VARIANTS = {
    "off": ("off", ()),
    "on": ("on", ()),
    "on without the middleware": ("on", ("middleware",)),
    "on without the database backend": ("on", ("db",)),
    "on without connection tracking": ("on", ("connections",)),
    "on without gunicorn's hooks": ("on", ("hooks",)),
    # prometheus_client's in-memory values instead of its files (nor the open-connections
    # publish, which only multiprocess mode needs).
    "on without multiprocess files": ("on", ("files",)),
    # In both: the app bounds its queries whether metrics are on or not.
    "on without the query deadline": ("on", ("deadline",)),
}
MULTIPROCESS_ONLY = {"on without gunicorn's hooks", "on without multiprocess files"}


def environ() -> dict:
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/",
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }


def knock_out(parts: tuple[str, ...]) -> None:
    """Remove components from "metrics on" before Django sets up."""
    from django.conf import settings

    if "middleware" in parts:
        settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if not m.startswith("dyno_metrics")]
    if "db" in parts:
        settings.DATABASES["default"]["ENGINE"] = "django.db.backends.postgresql"


def knock_out_after_setup(parts: tuple[str, ...]) -> None:
    if "connections" in parts:
        from django.core.signals import request_finished
        from django.db.backends.signals import connection_created

        for uid in ("dyno_metrics.connections", "dyno_metrics.connections.opened"):
            connection_created.disconnect(dispatch_uid=uid)
        request_finished.disconnect(dispatch_uid="dyno_metrics.connections.finished")
    if "deadline" in parts:
        from django.db.backends.signals import connection_created

        connection_created.disconnect(dispatch_uid="dyno_metrics.deadline")


def serve_loop(metrics: bool, parts: tuple[str, ...], multiprocess: bool, count: int):
    """A function that serves `count` requests, as the server would call the app."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "app.settings"
    knock_out(parts)
    from app.wsgi import application

    knock_out_after_setup(parts)
    hooks = None
    if multiprocess and metrics and "hooks" not in parts:
        from dyno_metrics import gunicorn as hooks

        hooks.post_worker_init(type("Worker", (), {"sockets": []})())

    def start_response(status, headers, exc_info=None):
        if not status.startswith("200"):
            raise RuntimeError(f"GET / answered {status}")

    def serve() -> None:
        for _ in range(count):
            if hooks:
                hooks.pre_request(None, None)
            request = environ()
            body = application(request, start_response)
            b"".join(body)
            body.close()
            if hooks:
                hooks.post_request(None, None, request, None)

    return serve


def child(variant: str, multiprocess: bool, count: int, profile: bool) -> None:
    """Serves a batch of `count` requests for each line read, and answers with its CPU
    microseconds per request."""
    enabled, parts = VARIANTS[variant]
    serve = serve_loop(enabled == "on", parts, multiprocess, count)
    serve()  # warm: the connection, Django's caches, the label children
    if profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.runcall(serve)
        stats = pstats.Stats(profiler).sort_stats("tottime")
        stats.print_stats("dyno_metrics|prometheus|threading|middleware|base.py", 40)
        return
    print("ready", flush=True)
    for _ in sys.stdin:
        started = time.process_time()
        serve()
        print((time.process_time() - started) / count * 1e6, flush=True)


def start_child(
    variant: str, multiprocess: bool, count: int, url: str, directory: str, *flags: str
) -> subprocess.Popen:
    enabled, parts = VARIANTS[variant]
    env = {**os.environ, "DATABASE_URL": url, "METRICS_ENABLED": enabled, "QUEUE_TIME_BUDGET": "0"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    if multiprocess and enabled == "on" and "files" not in parts:
        env["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(dir=directory)
    command = [sys.executable, "-m", "benchmarks.metrics_profile", "--child", variant]
    command += ["--requests", str(count), "--mode", "multiprocess" if multiprocess else "single"]
    return subprocess.Popen(
        [*command, *flags], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )


def batch(process: subprocess.Popen) -> float:
    process.stdin.write("\n")
    process.stdin.flush()
    return float(process.stdout.readline())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mode", choices=("single", "multiprocess"), default="single")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--requests", type=int, default=200, help="per batch")
    parser.add_argument("--cprofile", action="store_true")
    parser.add_argument("--parts", action="store_true", help="each part alone instead")
    parser.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    multiprocess = args.mode == "multiprocess"
    if args.child and args.parts:
        from benchmarks import metrics_parts

        metrics_parts.main(multiprocess)
        return
    if args.child:
        child(args.child, multiprocess, args.requests, args.cprofile)
        return
    from benchmarks.setup import database

    url = database("bench_metrics", ROWS)
    with tempfile.TemporaryDirectory(prefix="metrics-profile-") as directory:
        if args.cprofile or args.parts:
            flag = "--cprofile" if args.cprofile else "--parts"
            process = start_child("on", multiprocess, args.requests, url, directory, flag)
            print(process.communicate()[0])
            return
        variants = [v for v in VARIANTS if multiprocess or v not in MULTIPROCESS_ONLY]
        processes = {
            v: start_child(v, multiprocess, args.requests, url, directory) for v in variants
        }
        for process in processes.values():
            if process.stdout.readline().strip() != "ready":
                sys.exit("error: a profiling process failed to start")
        runs: dict[str, list[float]] = {v: [] for v in variants}
        for round_ in range(args.rounds):
            shift = round_ % len(variants)
            for variant in variants[shift:] + variants[:shift]:
                runs[variant].append(batch(processes[variant]))
        for process in processes.values():
            process.stdin.close()
            process.wait()
    report(args, variants, runs)


def report(args, variants: list[str], runs: dict[str, list[float]]) -> None:
    """Medians per variant, and each component's cost as the median of its round-by-round
    difference to "on" (the rounds alternate, so a slow spell hits both sides)."""
    print(
        f"python -m benchmarks.metrics_profile --mode {args.mode} --rounds {args.rounds} "
        f"--requests {args.requests}: CPU per request, medians of {args.rounds} batches"
    )
    for variant in variants:
        values = runs[variant]
        print(f"  {variant:34} {statistics.median(values):7.1f} us")

    def difference(a: str, b: str) -> str:
        deltas = [x - y for x, y in zip(runs[a], runs[b], strict=True)]
        quartiles = statistics.quantiles(deltas, n=4)
        middle = statistics.median(deltas)
        return f"{middle:6.1f} us (quartiles {quartiles[0]:.1f}, {quartiles[2]:.1f})"

    print(f"  metrics on - off:                  {difference('on', 'off')}")
    for variant in variants[2:]:
        print(f"  {variant.removeprefix('on without '):34} {difference('on', variant)}")


if __name__ == "__main__":
    main()
