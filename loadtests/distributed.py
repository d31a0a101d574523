"""Load from many machines: Locust's distributed mode inside the kit's runs.

The master is `python -m loadtests run ... --remote-workers N [--master-bind ADDR:PORT]`; each
other machine runs `python -m loadtests worker --master HOST[:PORT]` from the same checkout
(Locust's workers load their own copy of the locustfile and take the scenario's options and the
target from the master). The master waits, bounded, for its workers; what it saw of them
(loadtests.workerwatch, on the master) goes into the summary. Locust's distributed mode:
https://docs.locust.io/en/stable/running-distributed.html
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

from loadtests.processes import STOP_TIMEOUT_S, Process, StartFailed, python_module

# Locust's own default for --master-port and --master-bind-port.
DEFAULT_MASTER_PORT = 5557
# How long the master waits for its workers before giving up (--workers-wait).
DEFAULT_WAIT_S = 120
WORKERS_FILE = "locust_workers.json"
# Every address: Locust's "*"; the workers then need another name for this machine.
EVERY_ADDRESS = ("0.0.0.0", "*")


def host_and_port(text: str, flag: str) -> tuple[str, int]:
    """HOST[:PORT] -> (host, port), Locust's 5557 without a port."""
    host, colon, port = text.rpartition(":")
    if not colon:
        host, port = text, str(DEFAULT_MASTER_PORT)
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{flag} takes HOST[:PORT], got {text!r}")
    return host, int(port)


def worker_command(host: str, port: int) -> str:
    """What to run on each load machine for a master at host:port."""
    return f"python -m loadtests worker --master {host}:{port}"


def read_workers(run_dir: Path) -> dict:
    """The master's record of its workers (loadtests.workerwatch): connected, joined, lost."""
    try:
        return json.loads((run_dir / WORKERS_FILE).read_text())
    except (OSError, ValueError):
        return {"connected": 0, "joined": [], "lost": []}


def wait_for_workers(master: Process, run_dir: Path, expected: int, wait_s: float, hint: str):
    """Returns once `expected` workers are connected to `master` (Locust then starts the load
    within a second); stops with one line naming how many joined after `wait_s`."""
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if master.poll() is not None:
            raise StartFailed(f"{master.name} exited ({master.poll()}); see {master.log_path}")
        if read_workers(run_dir)["connected"] >= expected:
            return
        time.sleep(0.5)
    joined = read_workers(run_dir)["connected"]
    raise StartFailed(f"{joined} of {expected} Locust workers joined in {wait_s:g} s; {hint}")


def summary_figures(run_dir: Path, started: float) -> dict:
    """summary.json's `locust_workers`: the workers that joined, and those lost mid-run with
    the second of the load they were lost at."""
    seen = read_workers(run_dir)
    lost = [
        {k: v for k, v in worker.items() if k != "at"}
        | {"after_s": round(max(0.0, worker["at"] - started))}
        for worker in seen["lost"]
    ]
    return {"joined": seen["joined"], "lost": lost}


def text(result: dict) -> str:
    """The summary's lines on the workers: how many, and each lost one by name."""
    workers = result.get("locust_workers")
    if not workers:
        return ""
    lines = [f"  Locust workers: {len(workers['joined'])} joined\n"]
    for worker in workers["lost"]:
        lines.append(
            f"  LOST Locust worker {worker['id']} (index {worker['index']}): {worker['how']}, "
            f"given up {worker['after_s']} s into the load; its users stopped, and its "
            "requests since its last report to the master are not counted\n"
        )
    return "".join(lines)


def run_worker(host: str, port: int, processes: int | None, root: Path) -> int:
    """`python -m loadtests worker`: Locust worker processes (one per core by default) for the
    master at host:port; they end when the master's run ends (or on Ctrl-C).

    Separate processes, as the runner starts local workers, rather than Locust's own
    `--processes` fork (experimental, its help says).
    """
    count = processes or os.cpu_count() or 1
    print(
        f"Locust workers: {count} process(es) for the master at {host}:{port}; they take the "
        "scenario from it and stop when its run ends",
        flush=True,
    )
    command = [
        *python_module("locust", "-f", str(root / "loadtests" / "locustfile.py")),
        *("--worker", "--master-host", host, "--master-port", str(port)),
    ]
    # cwd: the locustfile imports the kit as `loadtests`.
    workers = [subprocess.Popen(command, cwd=root) for _ in range(count)]
    try:
        return max(worker.wait() for worker in workers)
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.terminate()
        for worker in workers:
            try:
                worker.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                worker.kill()
