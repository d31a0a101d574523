"""`python -m loadtests results --fixes`: runs each fix beside the test it fixes (8 then 9,
alternating for a few rounds; 9 again with Redis stopped in the middle; 4 then 4b) at the
default scales, and writes the table and the issue's acceptance lines into
loadtests/README.md between the markers below.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

from loadtests import scenarios
from loadtests.budget import COLLECTOR_CONNECTIONS
from loadtests.results import LARGE_FACTOR, README, write_into_readme
from loadtests.runner import RunOptions, locust_workers, run

MARKERS = ("<!-- fixes:start -->", "<!-- fixes:end -->")
DEFAULT_DURATION_S = 60
# Test 8 sits at its dynos' knee, where the machine's slow spells move the average most: 8 and
# 9 alternate for this many rounds, and the acceptance lines read the median pair.
ROUNDS = 3
PAIRS = tuple((f"8 ({n})", f"9 ({n})") for n in range(1, ROUNDS + 1))
# (label, test, Redis outage as a share of the duration): each partner runs before its fix.
RUNS = (
    *((label, test, None) for pair in PAIRS for label, test in zip(pair, "89", strict=True)),
    ("9, Redis stopped", "9", (1 / 3, 2 / 3)),
    ("4", "4", None),
    ("4b", "4b", None),
)
# "Fall by at least 90%": the acceptance for the database's queries per second.
QUERIES_FALL = 0.9


def run_set(runs_root: Path, duration_s: int) -> dict[str, dict]:
    summaries = {}
    for label, test, outage in RUNS:
        scenario = scenarios.get(test).scaled(duration_s=duration_s)
        window = outage and (round(duration_s * outage[0]), round(duration_s * outage[1]))
        options = RunOptions(
            scenario, runs_root, None, locust_workers(scenario.users), redis_outage=window
        )
        summaries[label] = json.loads((run(options) / "summary.json").read_text())
    return summaries


def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value / 1000:.1f} s" if value >= 1000 else f"{value:.0f} ms"


def _errors(s: dict) -> str:
    kinds = ", ".join(f"{kind} {count:,}" for kind, count in list(s["errors"].items())[:2])
    return f"{s['error_rate']:.1%}" + (f" ({kinds})" if kinds else "")


def _fix_column(s: dict) -> str:
    if s.get("cache"):
        cache = s["cache"]
        text = f"hit ratio {cache['hit_ratio']:.1%}" if cache["hit_ratio"] is not None else "-"
        fallbacks = cache["fallbacks_error"] + cache["fallbacks_skipped"]
        if fallbacks:
            text += f", {fallbacks:,} fallbacks"
        after = (s.get("redis_outage") or {}).get("after")
        if after and after["hit_ratio"] is not None:
            text += f", {after['hit_ratio']:.1%} once Redis was back"
        return text
    if s.get("pooler"):
        pool = s["pooler"]
        return (
            f"pool {pool['pool_size']}: at most {pool['server_connections_max'] or 0:.0f} "
            f"server connections, {pool['clients_waiting_max'] or 0:.0f} waiting"
        )
    return "-"


def table(summaries: dict[str, dict]) -> str:
    rows = [
        "| test | server | users | req/min | errors | avg | p95 | db queries/s | db connections "
        "(max of 20) | cache / pool | alerts fired |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for label, s in summaries.items():
        rows.append(
            f"| {label} | {s['setup']} x{s['dynos']} | {s['users']:,} | "
            f"{s['requests_per_minute']:,} | {_errors(s)} | {_ms(s['avg_ms'])} | "
            f"{_ms(s['p95_ms'])} | {s['db_queries_per_second'] or 0:,.0f} | "
            f"{s['db_connections_max'] or 0:.0f} | {_fix_column(s)} | "
            f"{', '.join(s['alerts_fired']) or '-'} |"
        )
    seed8 = summaries[PAIRS[0][0]]["seed"]
    rows.append(
        f"| 8 (seed, Heroku) | waitress x2 | {seed8['users']:,} | "
        f"{seed8['requests_per_minute']:,} | - | {_ms(seed8['avg_ms'])} | - | - | - | - | - |"
    )
    return "\n".join(rows) + "\n\n" + "\n".join(checks(summaries)) + "\n"


def checks(s: dict[str, dict]) -> list[str]:
    """The issue's acceptance lines, each with its figure."""
    pairs = [(s[eight], s[nine]) for eight, nine in PAIRS]
    outage, four, fixed = (s[label] for label in ("9, Redis stopped", "4", "4b"))
    queries_fall = statistics.median(
        1 - (nine["db_queries_per_second"] or 0) / eight["db_queries_per_second"]
        for eight, nine in pairs
    )
    speedups = [
        eight["avg_ms"] / nine["avg_ms"] if nine["avg_ms"] else float("inf")
        for eight, nine in pairs
    ]
    speedup = statistics.median(speedups)
    in_app = [
        statistics.median(pair[i]["app_ms_per_request"] or 0 for pair in pairs) for i in (0, 1)
    ]
    errors_9 = max(nine["error_rate"] for _, nine in pairs)
    too_many = four["server_log_signs"].get("sorry, too many clients already", 0)
    pool_cap = fixed["pooler"]["pool_size"] + fixed["dynos"] * COLLECTOR_CONNECTIONS
    http_500 = outage["errors"].get("http_500", 0)
    fallbacks = outage["cache"]["fallbacks_error"] + outage["cache"]["fallbacks_skipped"]
    after = outage["redis_outage"].get("after") or {}
    lines = [
        (f"test 9's database queries per second fall by at least {QUERIES_FALL:.0%} from test 8's",
         queries_fall >= QUERIES_FALL, f"-{queries_fall:.1%}, median of {ROUNDS} pairs"),
        (f"test 9 has no errors in any of {ROUNDS} runs", errors_9 == 0, f"at most {errors_9:.1%}"),
        (f"test 9's average is over {LARGE_FACTOR}x below test 8's", speedup > LARGE_FACTOR,
         f"/{speedup:.1f}, median of {ROUNDS} pairs: "
         + ", ".join(f"/{one:.1f}" for one in speedups)
         + f"; time in the app {in_app[0]:.1f} ms -> {in_app[1]:.1f} ms"),
        ("test 4b has no errors where test 4 ran out of connections",
         fixed["error_rate"] == 0 and too_many > 0,
         f"{four['error_rate']:.1%} with \"too many clients\" x{too_many:,} -> "
         f"{fixed['error_rate']:.1%}"),
        (f"test 4b's PostgreSQL connections stay within the pool ({pool_cap} with the "
         "collector)", (fixed["db_connections_max"] or 0) <= pool_cap,
         f"at most {fixed['db_connections_max'] or 0:.0f}"),
        ("Redis stopped mid-run: no 500s, the fallbacks counted, PageCacheFailing fired, "
         "the hit ratio back above 90% once Redis returned",
         http_500 == 0 and fallbacks > 0 and "PageCacheFailing" in outage["alerts_fired"]
         and (after.get("hit_ratio") or 0) > 0.9,
         f"{http_500} x 500, {fallbacks:,} fallbacks, hit ratio after "
         f"{(after.get('hit_ratio') or 0):.1%}"),
    ]  # fmt: skip
    return [
        f"- {'holds' if ok else 'DOES NOT HOLD'}: {what} ({figure})" for what, ok, figure in lines
    ]


def main(runs_root: Path, duration_s: int | None) -> None:
    duration_s = duration_s or DEFAULT_DURATION_S
    text = table(run_set(runs_root, duration_s))
    write_into_readme(text, duration_s, "python -m loadtests results --fixes", MARKERS)
    print(text, end="")
    print(f"Written into {README}")
