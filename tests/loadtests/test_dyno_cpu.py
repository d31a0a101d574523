"""A local dyno's CPU share: a real cgroup with a CFS quota, holding a real busy process."""

import argparse
import json
import os
import subprocess
import sys

import pytest

from loadtests import dyno_cpu
from loadtests.processes import Process

# Spins for two seconds of wall time, then says how much CPU it got, and in which cgroups it
# ran from its start.
BUSY = """
import json, time
cgroups = open("/proc/self/cgroup").read()
start = time.monotonic()
while time.monotonic() - start < 2:
    pass
print(json.dumps({"cpu_s": time.process_time(), "wall_s": time.monotonic() - start,
                  "cgroups": cgroups}))
"""


@pytest.fixture
def limit(request):
    try:
        made = dyno_cpu.CpuLimit(f"cce-test-{os.getpid()}-{request.node.name[:40]}", 0.2)
    except dyno_cpu.Unavailable as reason:
        pytest.fail(f"dynos cannot be CPU-capped here: {reason}")
    yield made
    made.remove()


def test_a_capped_process_gets_at_most_its_share_and_is_throttled(limit, tmp_path):
    log = tmp_path / "busy.log"
    busy = Process("busy", [sys.executable, "-c", BUSY], log, cpu_limit=limit)
    assert busy.wait(timeout=30) == 0
    busy.stop()
    used = json.loads(log.read_text())
    assert limit.path.name in used["cgroups"]
    # The kernel enforces the quota as an upper bound: a busy loop would take a whole core.
    assert used["cpu_s"] / used["wall_s"] <= 0.2 * 1.25, used
    use = limit.use(busy.pid)
    assert use.throttled > 0 and use.held_share > 0.5, use


def test_the_cgroup_is_gone_after_its_process(limit):
    limit.remove()
    assert not limit.path.exists()


def test_a_run_removes_the_empty_cgroups_of_runners_that_are_gone(limit):
    gone = subprocess.Popen(["true"])  # a runner that has exited
    gone.wait()
    root = dyno_cpu.hierarchy().root
    made = {
        "stale": root / f"cce-{gone.pid}-20260101T000000Z-test5-web.1",
        "running": root / dyno_cpu.cgroup_name("20260101T000000Z-test5", "web.1"),
    }
    for path in made.values():
        path.mkdir()
    try:
        removed = dyno_cpu.remove_stale()
        assert made["stale"].name in removed and not made["stale"].exists()
        # This runner's own, and cgroups not named by a runner (the fixture's), stay.
        assert made["running"].exists() and limit.path.exists()
    finally:
        for path in made.values():
            if path.exists():
                path.rmdir()


def test_the_share_follows_how_long_this_machine_takes_for_the_same_python():
    reference = dyno_cpu.REFERENCE_WORK_S
    assert dyno_cpu.cores_for(reference) == dyno_cpu.REFERENCE_CORES
    # A machine that takes 40% longer gets a share 40% larger: it serves the same requests.
    assert dyno_cpu.cores_for(1.4 * reference) == pytest.approx(1.4 * dyno_cpu.REFERENCE_CORES)
    assert dyno_cpu.cores_for(reference / 100) == dyno_cpu.MIN_CORES
    assert dyno_cpu.cores_for(reference * 100) == dyno_cpu.MAX_CORES
    # Measured for real on this machine: a share within the bounds.
    assert dyno_cpu.MIN_CORES <= dyno_cpu.sized_cores() <= dyno_cpu.MAX_CORES


@pytest.mark.parametrize("text", ["x", "-0.1", "1e9", ""])
def test_a_bad_dyno_cpu_is_one_line_naming_the_choices(text):
    with pytest.raises(argparse.ArgumentTypeError, match="must be auto, 0"):
        dyno_cpu.cores_argument(text)


def test_dyno_cpu_takes_auto_a_share_or_no_cap():
    assert dyno_cpu.cores_argument("auto") is None
    assert dyno_cpu.cores_argument("0.25") == 0.25
    assert dyno_cpu.cores_argument("0") == 0
