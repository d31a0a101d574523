"""The run's own Redis (test 9): a real `redis-server` on a free loopback port, no persistence,
and an optional outage (`--redis-outage START:END`) that stops it mid-run and starts it
again on the same port, to show the page falling back to the database and recovering."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

from loadtests.processes import Process, StartFailed, free_port, wait_until_listening

HOW_TO_INSTALL = "no `redis-server` on PATH (Debian/Ubuntu: sudo apt-get install redis-server)"


class RedisServer:
    def __init__(self, run_dir: Path):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._log = run_dir / "redis.log"
        self._process: Process | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise StartFailed(HOW_TO_INSTALL)
        # A cache only: nothing written to disk, so a restart starts empty, as Heroku Redis's
        # eviction or a failover would.
        args = [binary, "--port", str(self.port), "--bind", "127.0.0.1"]
        args += ["--save", "", "--appendonly", "no"]
        self._process = Process("redis", args, self._log)
        wait_until_listening(self._process, self.port)

    def stop(self) -> None:
        if self._process is not None:
            self._process.stop()
            self._process = None


def parse_outage(text: str) -> tuple[int, int]:
    """ "START:END" in seconds from the start of the load, START < END."""
    try:
        start, end = (int(part) for part in text.split(":"))
    except ValueError:
        raise ValueError(f"--redis-outage must be START:END in seconds, got {text!r}") from None
    if not 0 <= start < end:
        raise ValueError(f"--redis-outage needs 0 <= START < END, got {text!r}")
    return start, end


class Outage:
    """Stops `redis` at `start` seconds after `begin()` and starts it again at `end`."""

    def __init__(self, redis: RedisServer, start_s: int, end_s: int):
        self._redis, self._start_s, self._end_s = redis, start_s, end_s
        self._cancelled = threading.Event()
        self._thread = threading.Thread(target=self._run, name="redis-outage", daemon=True)
        self.stopped_at: float | None = None
        self.restarted_at: float | None = None

    def begin(self) -> None:
        self._began = time.time()
        self._thread.start()

    def _run(self) -> None:
        if self._cancelled.wait(self._start_s):
            return
        self._redis.stop()
        self.stopped_at = time.time()
        print(f"Redis stopped at {self._start_s} s (--redis-outage)", flush=True)
        if self._cancelled.wait(max(0.0, self._began + self._end_s - time.time())):
            return
        self._redis.start()
        self.restarted_at = time.time()
        print(f"Redis started again at {self._end_s} s", flush=True)

    def cancel(self) -> None:
        self._cancelled.set()
        if self._thread.is_alive():
            self._thread.join()

    def as_dict(self) -> dict:
        return {
            "start_s": self._start_s,
            "end_s": self._end_s,
            "stopped_at": self.stopped_at,
            "restarted_at": self.restarted_at,
        }
