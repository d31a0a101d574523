"""Runs the seed's load tests: python -m loadtests run --test N | worker | results | demo

    python -m loadtests run --test N [--scale F] [--duration S] [--users N] [--host URL]
                                     [--workers N] [--runs-dir DIR]
                                     [--redis-outage START:END] [--dynos N --threads N]
                                     [--grafana] [--dyno-cpu CORES] [--drain URL]
                                     [--remote-workers N [--master-bind ADDR:PORT]
                                      [--workers-wait S]]
                                     [--path PATH[=WEIGHT] ...] [--method M]
                                     [--header 'Name: value' ...] [--expect-status N]
                                     [--expect-body REGEX] [--scenario-file FILE]
    python -m loadtests worker --master HOST[:PORT] [--processes N]
                                     [--router 2.0|legacy]
    python -m loadtests results [--duration S] [--fixes]
    python -m loadtests demo

`run` runs one test (loadtests/README.md); `results` reruns the comparison set and rewrites
the results table in loadtests/README.md; `worker` runs Locust workers for a `run
--remote-workers` on another machine; `demo` is `make demo`: test 5 at demo scale, after
showing one page.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from loadtests import distributed, dyno_cpu, interrupts, router, scenarios, user_requests
from loadtests.processes import StartFailed
from loadtests.redis_server import parse_outage
from loadtests.runner import ROOT, BadArgument, RunOptions, locust_workers, run


class OneLineParser(argparse.ArgumentParser):
    """Bad arguments get one line and exit status 2, not argparse's usage block."""

    def error(self, message: str):
        self.exit(2, f"error: {message}\n")


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a number above 0, got {text!r}")
    return value


def positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1, got {text!r}")
    return int(text)


def spec_argument(parse):
    """An argparse type from a user_requests parser: its one-line message on a bad value."""

    def parse_or_explain(text: str):
        try:
            return parse(text)
        except user_requests.BadRequestSpec as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    parse_or_explain.__name__ = parse.__name__
    return parse_or_explain


def add_request_arguments(run: argparse.ArgumentParser) -> None:
    """What each user asks for (loadtests/README.md, "Your own app"); default the seed's page."""
    group = run.add_argument_group("your own app's requests (default: the seed's / and its check)")
    group.add_argument(
        "--path",
        action="append",
        type=spec_argument(user_requests.weighted_path),
        metavar="PATH[=WEIGHT]",
        help="a path the users ask for, picked by weight (repeatable; default 1)",
    )
    group.add_argument("--method", type=spec_argument(user_requests.method), help="default GET")
    group.add_argument(
        "--header",
        action="append",
        type=spec_argument(user_requests.header),
        metavar="'NAME: VALUE'",
        help="sent with every request (repeatable)",
    )
    group.add_argument(
        "--expect-status", type=spec_argument(user_requests.status), metavar="N", help="default 200"
    )
    group.add_argument(
        "--expect-body",
        type=spec_argument(user_requests.body_pattern),
        metavar="REGEX",
        help="a good body holds a match (default: any body)",
    )
    group.add_argument(
        "--scenario-file",
        type=Path,
        metavar="FILE",
        help="the same in a .toml or .yaml file (loadtests/examples/); flags given override it",
    )


def outage_window(text: str) -> tuple[int, int]:
    try:
        return parse_outage(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def host_and_port(flag: str):
    def parse(text: str) -> tuple[str, int]:
        try:
            return distributed.host_and_port(text, flag)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    return parse


def parser() -> argparse.ArgumentParser:
    main = OneLineParser(prog="python -m loadtests", description=__doc__.split("\n")[0])
    commands = main.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    one = commands.add_parser("run", help="run one of the seed's tests")
    one.add_argument("--test", required=True, help=f"one of {', '.join(scenarios.SCENARIOS)}")
    one.add_argument(
        "--scale",
        type=positive_float,
        help="multiple of the seed's users, each at the seed's pace (default: the test's own)",
    )
    one.add_argument("--duration", type=positive_int, help="seconds (default: the seed's 300)")
    one.add_argument("--users", type=positive_int, help="exact users, instead of --scale")
    one.add_argument("--host", help="run against this URL (e.g. a Heroku app); start nothing")
    one.add_argument(
        "--workers",
        type=int,
        help="Locust worker processes (0: one process; default: one per 10,000 users above it)",
    )
    one.add_argument("--runs-dir", type=Path, default=ROOT / "runs", help="default: runs/")
    one.add_argument(
        "--redis-outage",
        type=outage_window,
        metavar="START:END",
        help="stop the run's Redis START s into the load, start it again at END (test 9)",
    )
    one.add_argument("--dynos", type=positive_int, help="with --host: the app's dynos (budget)")
    one.add_argument("--threads", type=positive_int, help="with --host: threads per dyno (budget)")
    one.add_argument(
        "--drain",
        metavar="URL",
        help="with --host: the /metrics URL of the drain receiver the app's log drain feeds "
        "(metrics/drain); the summary adds the router's view of the run",
    )
    one.add_argument(
        "--grafana",
        action="store_true",
        help="dynos on 8000, 8001, ..., the exporter on 9646 and the run's drain receiver on "
        "8088, on the Docker bridge's address, for the compose stack "
        "(docker-compose.observability.yml), which finds them in metrics/targets/run-*.json",
    )
    one.add_argument(
        "--dyno-cpu",
        type=dyno_cpu.cores_argument,
        default=None,
        metavar="CORES",
        help="each local dyno's CPU, as a Heroku dyno's share (default auto: sized to this "
        f"machine, {dyno_cpu.REFERENCE_CORES} of a core on the reference one; 0: the whole "
        "machine)",
    )
    add_request_arguments(one)
    # Load from other machines (loadtests.distributed).
    one.add_argument(
        "--remote-workers",
        type=positive_int,
        default=0,
        metavar="N",
        help="wait for N Locust workers from other machines (`python -m loadtests worker`)",
    )
    one.add_argument(
        "--master-bind",
        type=host_and_port("--master-bind"),
        metavar="ADDR:PORT",
        help=f"where the workers connect (default: every address, port "
        f"{distributed.DEFAULT_MASTER_PORT}); against the local app, the router listens on ADDR",
    )
    one.add_argument(
        "--workers-wait",
        type=positive_float,
        default=distributed.DEFAULT_WAIT_S,
        metavar="S",
        help=f"seconds to wait for the workers (default {distributed.DEFAULT_WAIT_S})",
    )
    worker = commands.add_parser("worker", help="Locust workers for a master on another machine")
    worker.add_argument("--master", required=True, type=host_and_port("--master"))
    worker.add_argument("--processes", type=positive_int, help="default: one per core")
    one.add_argument(
        "--router",
        choices=router.ROUTERS,
        default=router.DEFAULT_ROUTER,
        help="which Heroku router the local stand-in models: 2.0 (default: keep-alive "
        "connections to each dyno, idle ones closed after 90 s) or legacy (a new connection "
        "per request)",
    )
    commands.add_parser(
        "demo",
        help=f"test 5 at demo scale ({DEMO_USERS:,} users, {DEMO_DURATION_S} s), with the page",
    )
    results = commands.add_parser("results", help="rerun the comparison set, update README")
    results.add_argument("--duration", type=positive_int, default=None)
    results.add_argument("--runs-dir", type=Path, default=ROOT / "runs")
    results.add_argument(
        "--fixes", action="store_true", help="the fixes set instead: tests 8 and 9, 4 and 4b"
    )
    return main


# make demo: the seed's test 5 at a fifth of its users, for a minute.
DEMO_USERS = 1000
DEMO_DURATION_S = 60


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    interrupts.install()
    try:
        if args.command == "results":
            from loadtests import results

            if args.fixes:
                from loadtests import fixes_results

                fixes_results.main(args.runs_dir, args.duration)
            else:
                results.main(args.runs_dir, args.duration)
            return 0
        if args.command == "worker":
            return distributed.run_worker(*args.master, args.processes, ROOT)
        if args.command == "demo":
            scenario = scenarios.get("5").scaled(None, DEMO_DURATION_S, DEMO_USERS)
            run(RunOptions(scenario, ROOT / "runs", show_page=True))
            return 0
        if args.workers is not None and args.workers < 0:
            raise BadArgument(f"--workers must be 0 or more, got {args.workers}")
        if args.host and not args.host.startswith(("http://", "https://")):
            raise BadArgument(f"--host must be an http:// or https:// URL, got {args.host!r}")
        if args.drain and not args.drain.startswith(("http://", "https://")):
            raise BadArgument(f"--drain must be an http:// or https:// URL, got {args.drain!r}")
        scenario = scenarios.get(args.test).scaled(args.scale, args.duration, args.users)
        workers = locust_workers(scenario.users) if args.workers is None else args.workers
        if (args.dynos or args.threads) and not args.host:
            raise BadArgument("--dynos and --threads describe a deployed app: use them with --host")
        options = RunOptions(scenario, args.runs_dir, args.host, workers, args.redis_outage)
        options.host_dynos, options.host_threads = args.dynos, args.threads
        options.grafana = args.grafana
        options.dyno_cpu = args.dyno_cpu
        options.drain = args.drain
        if args.master_bind and not args.remote_workers:
            raise BadArgument("--master-bind is where remote workers connect: add --remote-workers")
        options.remote_workers, options.master_bind = args.remote_workers, args.master_bind
        options.workers_wait_s = args.workers_wait
        options.requests = user_requests.build(
            args.scenario_file, args.path, args.method, args.header, args.expect_status,
            args.expect_body,
        )  # fmt: skip
        options.router = args.router
        run(options)
    except (BadArgument, scenarios.UnknownScenario, user_requests.BadRequestSpec) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except (StartFailed, RuntimeError, OSError, subprocess.SubprocessError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: everything this run started was stopped", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
