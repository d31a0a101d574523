"""A local dyno's CPU share: a real cgroup with a CFS quota, holding a real busy process."""

import json
import os
import sys
from pathlib import Path

import pytest

from loadtests import dyno_cpu
from loadtests.processes import Process

# Spins for two seconds of wall time, then says how much CPU it got.
BUSY = """
import json, time
start = time.monotonic()
while time.monotonic() - start < 2:
    pass
print(json.dumps({"cpu_s": time.process_time(), "wall_s": time.monotonic() - start}))
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
    assert limit.path.name in Path(f"/proc/{busy.pid}/cgroup").read_text()
    assert busy.wait(timeout=30) == 0
    busy.stop()
    used = json.loads(log.read_text())
    # The kernel enforces the quota as an upper bound: a busy loop would take a whole core.
    assert used["cpu_s"] / used["wall_s"] <= 0.2 * 1.25, used
    use = limit.use(busy.pid)
    assert use.throttled > 0 and use.held_share > 0.5, use


def test_the_cgroup_is_gone_after_its_process(limit):
    limit.remove()
    assert not limit.path.exists()
