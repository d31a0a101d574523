"""A long replay with dynos coming and going: series and memory stay bounded."""

import time
from pathlib import Path

from metrics.drain import synthetic
from metrics.drain.frames import frame

TTL_SECONDS = 2.0
PHASES = 4
DYNOS_PER_PHASE = 60
LINES_PER_PHASE = 50_000
LINES_PER_BATCH = 1_000


def _rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def test_series_and_memory_stay_bounded_as_dynos_come_and_go(run_receiver):
    """The receiver's clock is CLOCK_MONOTONIC, as the test's: the test knows when each
    dyno was last heard at the latest, and so which ones the TTL must have dropped, however
    slow the machine is."""
    receiver, process = run_receiver("--ttl", str(TTL_SECONDS))
    rss_after_first_phase = None
    series_after_first_phase = None
    lines_posted = 0
    last_heard = 0.0
    for phase in range(PHASES):
        # Past the TTL since the previous phase's dynos were last heard: all must be gone.
        time.sleep(max(0.0, last_heard + TTL_SECONDS - time.monotonic()))
        dynos = [f"web.{phase * DYNOS_PER_PHASE + n + 1}" for n in range(DYNOS_PER_PHASE)]
        frames = [frame(m) for m in synthetic.messages(dynos, LINES_PER_PHASE)]
        batches = [
            b"".join(frames[start : start + LINES_PER_BATCH])
            for start in range(0, LINES_PER_PHASE, LINES_PER_BATCH)
        ]
        for number, body in enumerate(batches):
            assert receiver.post(body, frame_id=f"{phase}-{number}") == 204
        lines_posted += LINES_PER_PHASE
        # One line per dyno of the phase, then a scrape: if both took under the TTL, none of
        # them can have expired yet. On a machine stalled longer than that, hear them again.
        heartbeat = b"".join(frame(m) for m in synthetic.messages(dynos, DYNOS_PER_PHASE))
        for attempt in range(5):
            sent = time.monotonic()
            assert receiver.post(heartbeat, frame_id=f"{phase}-heartbeat-{attempt}") == 204
            lines_posted += DYNOS_PER_PHASE
            samples = receiver.scrape()
            last_heard = time.monotonic()
            if last_heard - sent < TTL_SECONDS:
                break
        else:
            raise AssertionError("five heartbeat-and-scrape rounds each took longer than the TTL")
        exported_dynos = {
            dict(labels)["dyno"]
            for (name, labels), _ in samples.items()
            if name.startswith("heroku_") and "dyno" in dict(labels)
        }
        assert exported_dynos == set(dynos), f"phase {phase}: stale dynos still exported"
        heroku_series = sum(1 for name, _ in samples if name.startswith("heroku_"))
        if phase == 0:
            rss_after_first_phase = _rss_bytes(process.pid)
            series_after_first_phase = heroku_series
        else:
            assert heroku_series <= series_after_first_phase
    parsed = sum(
        count for (name, _), count in samples.items() if name == "heroku_drain_lines_parsed_total"
    )
    assert parsed == lines_posted
    growth = _rss_bytes(process.pid) - rss_after_first_phase
    # 180 more dynos' worth of series would be a few MB; allow allocator noise, no more.
    assert growth < 8 * 1024 * 1024, f"receiver grew by {growth / 1e6:.1f} MB"
