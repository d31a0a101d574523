"""`python -m loadtests results`: reruns the comparison set at the default scales and writes
the results table into loadtests/README.md, between the markers below.

The acceptance lines it checks are the seed's comparisons: tests 2 and 5 without errors,
test 3 far slower than test 2, test 6 far slower than test 5, test 7 serving more than test 6.
"""

from __future__ import annotations

import datetime
import json
import os
from pathlib import Path

from loadtests import scenarios
from loadtests.runner import RunOptions, locust_workers, run

README = Path(__file__).resolve().parent / "README.md"
START, END = "<!-- results:start -->", "<!-- results:end -->"
# The comparison set, in the order each partner runs before the test read against it.
TESTS = ("2", "3", "5", "6", "7")
# Long enough for queues to build and settle; the set then takes about ten minutes.
DEFAULT_DURATION_S = 90
# "Rises by a large factor": the seed saw 300x (47 ms -> 14 s) and 50x (178 ms -> 9 s).
LARGE_FACTOR = 10
# "Serves more": beyond the few percent two runs of the same set-up differ by here.
MORE_THROUGHPUT = 1.05


def run_set(runs_root: Path, duration_s: int) -> dict[str, dict]:
    summaries = {}
    for test in TESTS:
        scenario = scenarios.get(test).scaled(duration_s=duration_s)
        run_dir = run(RunOptions(scenario, runs_root, None, locust_workers(scenario.users)))
        summaries[test] = json.loads((run_dir / "summary.json").read_text())
    return summaries


def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value / 1000:.1f} s" if value >= 1000 else f"{value:.0f} ms"


def table(summaries: dict[str, dict]) -> str:
    """The Markdown table and the acceptance lines, from the runs' summary.json files."""
    rows = [
        "| test | server | users (scale) | req/min (seed) | requests | errors | avg (seed) | p95 "
        "| max | alerts fired |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for test, s in summaries.items():
        seed = s["seed"]
        seed_rpm = f"{seed['requests_per_minute']:,}" if seed["requests_per_minute"] else "-"
        rows.append(
            f"| {test} | {s['setup']} x{s['dynos']} | {s['users']:,} ({s['scale']:g}) "
            f"| {s['requests_per_minute']:,} ({seed_rpm}) | {s['requests']:,} "
            f"| {s['error_rate']:.1%} | {_ms(s['avg_ms'])} ({_ms(seed['avg_ms'])}) "
            f"| {_ms(s['p95_ms'])} | {_ms(s['max_ms'])} | {', '.join(s['alerts_fired']) or '-'} |"
        )

    def ratio(test: str, partner: str, key: str) -> float:
        return summaries[test][key] / summaries[partner][key]

    checks = [
        ("tests 2 and 5 have no errors",
         summaries["2"]["error_rate"] == 0 and summaries["5"]["error_rate"] == 0,
         f"{summaries['2']['error_rate']:.1%} and {summaries['5']['error_rate']:.1%}"),
        (f"test 3's average is over {LARGE_FACTOR}x test 2's",
         ratio("3", "2", "avg_ms") > LARGE_FACTOR, f"x{ratio('3', '2', 'avg_ms'):.1f}"),
        (f"test 6's average is over {LARGE_FACTOR}x test 5's",
         ratio("6", "5", "avg_ms") > LARGE_FACTOR, f"x{ratio('6', '5', 'avg_ms'):.1f}"),
        (f"test 7 (2 dynos) serves over {MORE_THROUGHPUT}x test 6's req/min (1 dyno)",
         ratio("7", "6", "served_requests_per_minute") > MORE_THROUGHPUT,
         f"x{ratio('7', '6', 'served_requests_per_minute'):.2f}"),
    ]  # fmt: skip
    lines = [
        f"- {'holds' if ok else 'DOES NOT HOLD'}: {what} ({figure})" for what, ok, figure in checks
    ]
    return "\n".join(rows) + "\n\n" + "\n".join(lines) + "\n"


def write_into_readme(
    text: str,
    duration_s: int,
    command: str = "python -m loadtests results",
    markers: tuple[str, str] = (START, END),
) -> None:
    start, end = markers
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    block = (
        f"{start}\n_Measured {when}, {duration_s} s per test, on a machine with "
        f"{os.cpu_count()} cores, by `{command} --duration {duration_s}`._\n\n"
        f"{text}{end}"
    )
    readme = README.read_text()
    before, rest = readme.split(start, 1)
    README.write_text(before + block + rest.split(end, 1)[1])


def main(runs_root: Path, duration_s: int | None) -> None:
    duration_s = duration_s or DEFAULT_DURATION_S
    text = table(run_set(runs_root, duration_s))
    write_into_readme(text, duration_s)
    print(text, end="")
    print(f"Written into {README}")
