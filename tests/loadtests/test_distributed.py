"""Load from many machines: `run --remote-workers` with `python -m loadtests worker`.

Two hosts on one machine: the master, the app and the router in one network namespace, the
workers in another, joined by a veth pair (10.200.0.1 and .2; each pair of namespaces is its
own network, so parallel runs cannot collide, and their names are unique), one of the workers
lost mid-run; and no worker at all, on loopback against an app already up. Everything is real:
Locust's master and workers, the app, Caddy, the Logplex, the drain receiver, Prometheus.
"""

import contextlib
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from loadtests.processes import free_port
from tests.conftest import require_binary
from tests.loadtests.helpers import (
    ROOT,
    assert_exporter_matches_locust,
    assert_router_matches_locust,
    cli,
)

MASTER_ADDRESS = "10.200.0.1"
WORKERS_ADDRESS = "10.200.0.2"
MASTER_PORT = 5557  # the namespace is new: nothing else holds it
WAIT_S = 120  # for anything to start, or to end after its time


def ip(*args: str) -> None:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=WAIT_S)
    if done.returncode:
        pytest.fail(f"ip {' '.join(args)}: {done.stderr.strip()} (network namespaces need root)")


@contextlib.contextmanager
def two_hosts() -> Iterator[tuple[str, str]]:
    """Two network namespaces joined by a veth pair; yields their names, removes them after."""
    require_binary("ip", "iproute2")
    require_binary("nsenter", "util-linux")
    tag = secrets.token_hex(3)
    hosts = (f"cce-{tag}-master", f"cce-{tag}-workers")
    links = (f"cce{tag}m", f"cce{tag}w")  # interface names: at most 15 characters
    try:
        for host in hosts:
            ip("netns", "add", host)
            ip("-n", host, "link", "set", "lo", "up")
        ip("link", "add", links[0], "type", "veth", "peer", "name", links[1])
        for host, link, address in zip(
            hosts, links, (MASTER_ADDRESS, WORKERS_ADDRESS), strict=True
        ):
            ip("link", "set", link, "netns", host)
            ip("-n", host, "addr", "add", f"{address}/24", "dev", link)
            ip("-n", host, "link", "set", link, "up")
        yield hosts
    finally:
        # Deleting a namespace deletes the veth end in it, and with it the pair.
        for host in hosts:
            subprocess.run(["ip", "netns", "del", host], capture_output=True, timeout=WAIT_S)
        subprocess.run(["ip", "link", "del", links[0]], capture_output=True, timeout=WAIT_S)


def on(host: str | None, *args: str) -> list[str]:
    """A command line run in `host`'s network namespace only (mounts and cgroups stay the
    machine's, unlike `ip netns exec`), or here with None."""
    return ["nsenter", f"--net=/var/run/netns/{host}", *args] if host else list(args)


def start(command: list[str], log: Path) -> subprocess.Popen:
    """A process of its own session (so a whole worker machine can be killed at once)."""
    with log.open("wb") as out:
        return subprocess.Popen(
            command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=WAIT_S)


def wait_for_text(path: Path, text: str, process: subprocess.Popen) -> str:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        content = path.read_text() if path.exists() else ""
        if text in content:
            return content
        assert process.poll() is None, f"exited ({process.returncode}):\n{content}"
        time.sleep(0.2)
    raise AssertionError(f"no {text!r} in {path} after {WAIT_S} s")


def master_command(runs: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "loadtests", "run", "--test", "5", "--runs-dir", str(runs), *args]


def worker_command(master: str, processes: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "loadtests",
        "worker",
        "--master",
        master,
        "--processes",
        str(processes),
    ]


def finished_run(master: subprocess.Popen, log: Path, runs: Path) -> tuple[str, dict]:
    assert master.wait(timeout=WAIT_S + 60) == 0, log.read_text()
    (run_dir,) = runs.iterdir()
    return log.read_text(), json.loads((run_dir / "summary.json").read_text())


def worker_id(log: Path, process: subprocess.Popen) -> str:
    """The id a worker logs at start: the name the master's summary gives it."""
    line = wait_for_text(log, " (pid ", process)
    return re.search(r"Locust worker (\S+) \(pid ", line).group(1)


def test_workers_on_another_host_load_the_local_app_one_is_lost_and_the_router_agrees(tmp_path):
    require_binary("prometheus", "prometheus")
    runs = tmp_path / "runs"
    master_log, kept_log, lost_log = (tmp_path / f"{n}.out" for n in ("master", "kept", "lost"))
    bind = f"{MASTER_ADDRESS}:{MASTER_PORT}"
    with two_hosts() as (master_host, workers_host), contextlib.ExitStack() as stack:
        master = start(
            on(master_host, *master_command(runs, "--users", "40", "--duration", "16",
                                            "--remote-workers", "3", "--master-bind", bind)),
            master_log,
        )  # fmt: skip
        stack.callback(stop, master)
        shown = wait_for_text(master_log, "on each load machine run:", master)
        # The one line names the command to run on the load machines.
        assert f"python -m loadtests worker --master {bind}" in shown, shown
        # From the other network: one machine with two worker processes, and one that is lost.
        kept = start(on(workers_host, *worker_command(bind, 2)), kept_log)
        lost = start(on(workers_host, *worker_command(bind, 1)), lost_log)
        for worker in (kept, lost):
            stack.callback(stop, worker)
        lost_id = worker_id(lost_log, lost)
        (run_dir,) = runs.iterdir()
        wait_for_text(run_dir / "locust.log", "Shape worker starting", master)
        time.sleep(2)  # the load has started on every worker
        stop(lost)  # its machine gone: no quit message, no more heartbeats
        output, summary = finished_run(master, master_log, runs)
        # The run's end ends the other workers (the master sends them quit).
        assert kept.wait(timeout=WAIT_S) == 0, kept_log.read_text()
    assert summary["requests"] > 0 and summary["error_rate"] == 0, summary["error_messages"]
    workers = summary["locust_workers"]
    assert len(workers["joined"]) == 3 and lost_id in workers["joined"], workers
    assert [(w["id"], w["how"]) for w in workers["lost"]] == [(lost_id, "no heartbeat for 10 s")]
    # Killed once the load had started; the master gives it up after 10 missed heartbeats
    # (loadtests.workerwatch, not imported here: importing Locust patches this process).
    assert workers["lost"][0]["after_s"] >= 10, workers
    assert f"LOST Locust worker {lost_id}" in output, output
    # Every worker's requests reached the master's figures, its exporter and the router. The
    # lost worker's last unreported seconds are at most one request per user of it (a user
    # asks every 15 s; workers report every 3 s), as a request in flight at the end is for
    # the others: the router's count is Locust's, plus at most one per user.
    assert_exporter_matches_locust(summary)
    assert_router_matches_locust(summary)
    assert summary["router"]["by_dyno"] == {"web.1": summary["router"]["requests"]}


def test_too_few_workers_stop_the_run_with_one_line_naming_the_worker_command(app_url, tmp_path):
    bind = f"127.0.0.1:{free_port()}"
    done = cli(
        "run", "--test", "5", "--users", "10", "--duration", "10", "--host", app_url,
        "--remote-workers", "2", "--master-bind", bind, "--workers-wait", "2",
        "--runs-dir", str(tmp_path),
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert done.stderr == (
        f"error: 0 of 2 Locust workers joined in 2 s; on each load machine run: "
        f"python -m loadtests worker --master {bind} (port {bind.split(':')[1]} open to them "
        "here)\n"
    )


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["worker", "--master", "10.0.0.5:99999"], "--master takes HOST[:PORT]"),
        (["run", "--test", "5", "--remote-workers", "1"], "give --master-bind ADDR:PORT"),
        (["run", "--test", "5", "--master-bind", "127.0.0.1:5557"], "add --remote-workers"),
    ],
)
def test_bad_distributed_arguments_are_one_line_and_exit_status_2(args, says):
    done = cli(*args)
    assert done.returncode == 2, done
    assert done.stderr.count("\n") == 1 and says in done.stderr, done.stderr
