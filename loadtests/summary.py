"""A run's figures, read from what Locust, the sampler and Prometheus left in the run folder,
and the seed-style summary printed beside the seed's own figures."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from loadtests import locust_history, router, sampler
from loadtests.failures import kind_of_message
from loadtests.scenarios import SEED_DURATION_S, Scenario
from loadtests.user_requests import UserRequests
from metrics.alerting.diagnosis import describe

# Log lines that name a cause, counted in the dynos' logs (the runbooks search for them).
SERVER_LOG_SIGNS = (
    "sorry, too many clients already",
    "remaining connection slots are reserved",
    "Task queue depth is",
)

# Locust's CPU above this makes its figures understate the server (Locust warns at 90%).
LOCUST_CPU_LIMIT = 0.9
# A dyno that used less than this share of its CPU while requests queued for a second on
# average was held back by the machine (other processes on the cores), not by its share.
MACHINE_SHORT = 0.8
QUEUEING_MS = 1000


def by_kind(errors: dict[str, int]) -> dict[str, int]:
    """Locust's failure messages grouped by kind, most frequent first."""
    kinds: dict[str, int] = {}
    for message, count in errors.items():
        kind = kind_of_message(message)
        kinds[kind] = kinds.get(kind, 0) + count
    return dict(sorted(kinds.items(), key=lambda item: -item[1]))


def exporter_totals(scrape: str) -> dict:
    """The exporter's counters and its duration histogram's count and sum, from one scrape,
    summed over the declared paths, and each path's requests."""
    totals = {
        "requests": 0,
        "failures": {},
        "duration_count": 0,
        "duration_sum_s": 0.0,
        "requests_by_path": {},
    }
    for family in text_string_to_metric_families(scrape):
        for sample in family.samples:
            if sample.name == "locust_requests_total":
                totals["requests"] += int(sample.value)
                totals["requests_by_path"][sample.labels["path"]] = int(sample.value)
            elif sample.name == "locust_failures_total" and sample.value:
                kind = sample.labels["kind"]
                totals["failures"][kind] = totals["failures"].get(kind, 0) + int(sample.value)
            elif sample.name == "locust_request_duration_seconds_count":
                totals["duration_count"] += int(sample.value)
            elif sample.name == "locust_request_duration_seconds_sum":
                totals["duration_sum_s"] += sample.value
    return totals


def server_log_signs(run_dir: Path) -> dict[str, int]:
    """How often each known cause appears in the dynos' logs."""
    counts = dict.fromkeys(SERVER_LOG_SIGNS, 0)
    for log in run_dir.glob("web.*.log"):
        text = log.read_text(errors="replace")
        for sign in SERVER_LOG_SIGNS:
            counts[sign] += text.count(sign)
    return {sign: count for sign, count in counts.items() if count}


def build(
    scenario: Scenario,
    requests_spec: UserRequests,
    run_dir: Path,
    alerts: list,
    db_queries_per_second: float | None,
    db_connections_max: float | None,
) -> dict:
    """summary.json: the contract's fields, then what helps read them."""
    final = json.loads((run_dir / "locust_final.json").read_text())
    totals = final["locust"]
    requests = totals["requests"]
    cpu_max = final["cpu_usage_max_ratio"]
    return {
        "test": scenario.test,
        "scale": scenario.scale,
        "users": scenario.users,
        "duration_s": scenario.duration_s,
        "requests": requests,
        "requests_per_minute": round(requests * 60 / scenario.duration_s),
        # The same from when every user had started to the end: what a chart of a steady load
        # shows after the ramp (the figure above averages the ramp in).
        "full_load_requests_per_minute": locust_history.full_load_requests_per_minute(
            run_dir / locust_history.FILE_NAME, scenario.users
        ),
        # Answered without a failure: past the router's cap a dyno's surplus gets quick H11s,
        # which count as requests too.
        "served_requests_per_minute": round(
            (requests - totals["failures"]) * 60 / scenario.duration_s
        ),
        "error_rate": round(totals["failures"] / requests, 4) if requests else 0.0,
        "errors": by_kind(totals["errors"]),
        # The five most frequent failure messages, which say more than the kind.
        "error_messages": dict(sorted(totals["errors"].items(), key=lambda i: -i[1])[:5]),
        "avg_ms": _rounded(totals["avg_ms"]),
        "p95_ms": totals["p95_ms"],
        "max_ms": _rounded(totals["max_ms"]),
        "alerts_fired": [alert.name for alert in alerts],
        "db_queries_per_second": _rounded(db_queries_per_second),
        "db_connections_max": _rounded(db_connections_max),
        "app_ms_per_request": _rounded(
            sampler.app_ms_per_request(sampler.read_samples(run_dir / "samples.jsonl"))
        ),
        "seed": scenario.as_dict()["seed"],
        "offered_requests_per_minute": round(scenario.offered_requests_per_minute),
        "setup": scenario.setup,
        "dynos": scenario.dynos,
        "db_max_connections": scenario.db_max_connections,
        "alerts": [vars(alert) | {"runbook": alert.runbook} for alert in alerts],
        "server_log_signs": server_log_signs(run_dir),
        "exporter_final": exporter_totals(final["exporter_scrape"]),
        # What the users asked for (the seed's page unless the run named its own paths).
        "user_requests": None if requests_spec.is_seed else asdict(requests_spec),
        "paths": {
            path: figures | {"avg_ms": _rounded(figures["avg_ms"])}
            for path, figures in final["paths"].items()
        },
        "locust_cpu_usage_max_ratio": round(cpu_max, 3),
        "load_generator_saturated": cpu_max > LOCUST_CPU_LIMIT,
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def save(run_dir: Path, result: dict, text: str) -> None:
    """summary.json and summary.txt, each whole or not at all: a run killed while writing
    leaves the previous file or none, never half of one that later runs would read."""
    write_atomically(run_dir / "summary.json", json.dumps(result, indent=2) + "\n")
    write_atomically(run_dir / "summary.txt", text)


def write_atomically(path: Path, text: str) -> None:
    """Write a temporary file beside `path`, flush it to disk, then rename it over `path`
    (a rename within one file system is atomic: readers see the old file or the new one)."""
    with tempfile.NamedTemporaryFile(
        "w", dir=path.parent, prefix=f".{path.name}.", delete=False
    ) as temporary:
        temporary.write(text)
        temporary.flush()
        os.fsync(temporary.fileno())
    os.replace(temporary.name, path)


def read_saved(path: Path) -> dict | None:
    """An earlier run's summary.json, or None with a one-line warning when it cannot be read
    (cut short by a crash before writes were atomic, edited by hand, unreadable): one bad old
    run must not cost a new run its results."""
    try:
        summary = json.loads(path.read_text())
    except (OSError, ValueError) as error:  # ValueError: bad JSON, or not UTF-8
        print(f"warning: skipping {path}: {error}", file=sys.stderr)
        return None
    if not isinstance(summary, dict):
        print(f"warning: skipping {path}: not a JSON object", file=sys.stderr)
        return None
    return summary


def latest_summary(runs_root: Path, test: str, before: Path) -> tuple[Path, dict] | None:
    """The newest earlier run of `test` in `runs_root` (run ids sort by time)."""
    for run in sorted(runs_root.iterdir(), reverse=True):
        path = run / "summary.json"
        if run.name < before.name and path.exists():
            summary = read_saved(path)
            if summary is not None and summary.get("test") == test:
                return run, summary
    return None


def comparison(summary: dict, partner_run: Path, partner: dict) -> dict:
    """This run against its partner: how many times slower, how many times the throughput."""

    def ratio(key: str) -> float | None:
        if not partner.get(key) or summary.get(key) is None:
            return None
        return round(summary[key] / partner[key], 2)

    return {
        "with_test": partner["test"],
        "with_run": partner_run.name,
        "with_scale": partner.get("scale"),
        "avg_ms_ratio": ratio("avg_ms"),
        "app_ms_ratio": ratio("app_ms_per_request"),
        "requests_per_minute_ratio": ratio("requests_per_minute"),
    }


def format_ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value / 1000:.1f} s" if value >= 1000 else f"{value:.0f} ms"


def _count(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def text(summary: dict) -> str:
    """The seed-style summary, this run beside the seed's figures."""
    seed = summary["seed"]
    errors = ", ".join(f"{kind} {count:,}" for kind, count in summary["errors"].items())
    rpm = "requests_per_minute"
    seed_error = "-" if seed["error_rate"] is None else f"{seed['error_rate']:.0%}"
    rows = [
        ("users", _count(summary["users"]), _count(seed["users"])),
        ("duration", f"{summary['duration_s']} s", f"{SEED_DURATION_S} s"),
        ("requests/min", _count(summary["requests_per_minute"]), _count(seed[rpm])),
        ("  at full load", _count(summary["full_load_requests_per_minute"]), "-"),
        ("total requests", _count(summary["requests"]), _count(seed["requests"])),
        ("error rate", f"{summary['error_rate']:.1%}", seed_error),
        ("average", format_ms(summary["avg_ms"]), format_ms(seed["avg_ms"])),
        ("p95", format_ms(summary["p95_ms"]), "-"),
        ("max", format_ms(summary["max_ms"]), format_ms(seed["max_ms"])),
    ]
    cap = summary["db_max_connections"]
    served_by = (
        f"against {summary['host']}"
        if summary.get("host")
        else f"{summary['setup']}, {summary['dynos']} dyno(s), database capped at {cap} connections"
    )
    if summary.get("router_model"):
        served_by += f", behind {router.NAMES[summary['router_model']]}"
    lines = [
        f"Test {summary['test']} at scale {summary['scale']:g}: {served_by}",
        f"  seed: {seed['text']}",
        "",
        f"  {'':<16}{'this run':>14}{'seed (Heroku)':>16}",
    ]
    lines += [f"  {name:<16}{ours:>14}{theirs:>16}" for name, ours, theirs in rows]
    if errors:
        lines.append(f"  main errors: {errors}")
        messages = summary["error_messages"].items()
        lines += [f"    {count:>8,} x {message}" for message, count in messages]
    lines += _path_lines(summary)
    for sign, count in summary["server_log_signs"].items():
        lines.append(f'  server logs: "{sign}" x {count:,}')
    if summary["db_connections_max"] is not None:
        lines.append(
            f"  database: at most {summary['db_connections_max']:.0f} connections of {cap}, "
            f"{summary['db_queries_per_second'] or 0:.0f} queries/s"
        )
    if summary.get("app_ms_per_request") is not None:
        lines.append(
            f"  in the app: {summary['app_ms_per_request']:.1f} ms per request (the rest of the "
            "average waited in front of it: the dyno's queue, the router)"
        )
    lines += _dyno_cpu_lines(summary)
    if summary.get("comparison"):
        c = summary["comparison"]
        in_app = f", in the app x{c['app_ms_ratio']}" if c.get("app_ms_ratio") else ""
        lines.append(
            f"  against test {c['with_test']} ({c['with_run']}, scale {c['with_scale']}): "
            f"average x{c['avg_ms_ratio']}{in_app}, requests/min x{c['requests_per_minute_ratio']}"
        )
    if summary["load_generator_saturated"]:
        lines.append(
            f"  WARNING: Locust's CPU reached {summary['locust_cpu_usage_max_ratio']:.0%}: "
            "these figures understate the server (use --workers N or a smaller --scale)"
        )
    return "\n".join(lines) + "\n"


def _path_lines(summary: dict) -> list[str]:
    """The user's own paths, one line each: what was asked, how often, how it went."""
    asked = summary.get("user_requests")
    if not asked:
        return []
    expected = f"{asked['method']}, expecting {asked['expect_status']}"
    if asked["expect_body"]:
        expected += f" and a body matching {asked['expect_body']!r}"
    lines = [f"  by path ({expected}):"]
    for path, figures in summary["paths"].items():
        share = figures["failures"] / figures["requests"] if figures["requests"] else 0.0
        lines.append(
            f"    {path:<24} {figures['requests']:>9,} requests  {share:>6.1%} errors  "
            f"avg {format_ms(figures['avg_ms'])}  p95 {format_ms(figures['p95_ms'])}"
        )
    return lines


def _dyno_cpu_lines(summary: dict) -> list[str]:
    """Each dyno's CPU share, what it used of it, and a warning when the machine, not the
    share, was what the dynos ran short of."""
    cpu = summary.get("dyno_cpu") or {}
    if not cpu.get("cores"):
        return [f"  {cpu['note']}"] if cpu.get("note") else []
    dynos = cpu["dynos"]
    used = ", ".join(
        f"{name} {d['used_cores']:.2f} (at the limit {d['held_share']:.0%} of the time)"
        for name, d in dynos.items()
    )
    sized = " (sized to this machine)" if cpu.get("sized_to_host") else ""
    lines = [f"  dyno CPU: {cpu['cores']:g} of a core each{sized}; used during the load: {used}"]
    if cpu.get("ms_per_request") is not None:
        lines.append(f"  dyno CPU per request: {cpu['ms_per_request']:.2f} ms")
    short = held_back_by_machine(summary)
    if short:
        lines.append(
            f"  WARNING: {', '.join(short)} used less than its share while requests queued: the "
            "machine was short of CPU (other processes), so these figures understate a dyno"
        )
    return lines


def held_back_by_machine(summary: dict) -> list[str]:
    """The dynos that used less than MACHINE_SHORT of their CPU share while requests queued
    for QUEUEING_MS on average: the machine (other processes on its cores), not the share,
    held them back."""
    cpu = summary.get("dyno_cpu") or {}
    if not cpu.get("cores") or (summary["avg_ms"] or 0) < QUEUEING_MS:
        return []
    limit = MACHINE_SHORT * cpu["cores"]
    return [name for name, dyno in cpu["dynos"].items() if dyno["used_cores"] < limit]


def alerts_text(alerts: list, no_prometheus_reason: str | None) -> str:
    """The diagnosis: each alert that fired, in the order it became active, with its runbook."""
    if no_prometheus_reason:
        return f"Alerts: {no_prometheus_reason}\n"
    return "Alerts fired during the run (read the runbook first):\n" + describe(alerts) + "\n"
