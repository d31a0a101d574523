"""Locust's distributed mode, seen from the master: which workers joined, and which it lost
mid-run, in a JSON file the runner reads (loadtests.distributed) while it waits for workers and
after the run.

Locust has no event for a lost worker: a worker that stops sending heartbeats (a machine gone,
a process killed, a network cut) is marked missing after `HEARTBEAT_LIVENESS` missed heartbeats
(one a second), and one that quits is dropped from `runner.clients`; its users are not
replaced. So the master looks at its workers once a second.
Imported by the locustfile; the runner never imports it (importing Locust patches the standard
library with gevent).
"""

import json
import logging
import os
import time
from pathlib import Path

import gevent
from locust import runners
from locust.runners import (
    STATE_MISSING,
    STATE_RUNNING,
    STATE_SPAWNING,
    MasterRunner,
    WorkerRunner,
)

logger = logging.getLogger(__name__)

# Missed heartbeats before the master gives a worker up (Locust's default: 3). A busy machine
# delays them: with two cores shared by the dynos and other jobs (load average 16 to 20), a
# worker in another network namespace, and on loopback both local workers of a test 5 run
# (2,500 users), went missing 4 s into the load though they were running, and the runs counted
# no requests (Locust's maintainers on busy workers going missing:
# https://github.com/locustio/locust/issues/1158). A lost worker is named after 10 s of
# silence instead of 3.
HEARTBEAT_LIVENESS = 10


def add_arguments(parser) -> None:
    parser.add_argument(
        "--workers-file",
        default=None,
        help="the master writes the workers that joined and those lost mid-run here (JSON)",
    )


def watch(environment) -> None:
    """On a worker: logs its id (the name the master's summary gives it). On a master given
    --workers-file: records its workers each second and once more as it quits."""
    runner = environment.runner
    if isinstance(runner, WorkerRunner):
        logger.info(
            "Locust worker %s (pid %d) for the master at %s:%d",
            runner.client_id,
            os.getpid(),
            runner.master_host,
            runner.master_port,
        )
        return
    path = environment.parsed_options and environment.parsed_options.workers_file
    if not isinstance(runner, MasterRunner) or not path:
        return
    # Read by the master each time a worker joins or sends a heartbeat.
    runners.HEARTBEAT_LIVENESS = HEARTBEAT_LIVENESS
    record = WorkerRecord(runner, Path(path))

    def every_second():
        while True:
            record.look()
            gevent.sleep(1)

    gevent.spawn(every_second)
    environment.events.quitting.add_listener(lambda **_kwargs: record.look())


class WorkerRecord:
    def __init__(self, runner: MasterRunner, path: Path):
        self._runner = runner
        self._path = path
        self._joined: dict[str, int] = {}  # worker id -> Locust's index for it
        self._lost: dict[str, dict] = {}

    def look(self) -> None:
        runner = self._runner
        loading = runner.state in (STATE_RUNNING, STATE_SPAWNING)
        for worker in runner.clients.all:
            self._joined.setdefault(worker.id, runner.get_worker_index(worker.id))
            if worker.state == STATE_MISSING:
                self._lose(worker.id, f"no heartbeat for {HEARTBEAT_LIVENESS} s")
            elif worker.id in self._lost:
                # Its heartbeats came back (Locust gives it users again): not lost after all.
                del self._lost[worker.id]
        if loading:
            # Gone from the master's list during the load: the worker quit (Ctrl-C on its
            # machine). At the end of a run workers leave too, but the master is stopping then.
            for worker_id in self._joined.keys() - runner.clients.keys():
                self._lose(worker_id, "quit")
        self._write()

    def _lose(self, worker_id: str, how: str) -> None:
        if worker_id not in self._lost:
            self._lost[worker_id] = {
                "id": worker_id,
                "index": self._joined[worker_id],
                "at": time.time(),
                "how": how,
            }

    def _write(self) -> None:
        clients = self._runner.clients
        state = {
            "connected": len(clients.ready + clients.spawning + clients.running),
            "joined": list(self._joined),
            "lost": list(self._lost.values()),
        }
        partial = self._path.with_suffix(".partial")
        partial.write_text(json.dumps(state, indent=2))
        partial.replace(self._path)  # the runner never reads half a file
