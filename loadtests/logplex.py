"""A local Logplex: the router stand-in's access log, delivered to a drain receiver as Heroku's
router lines, so that a local run has the router's view a deployed app's drain gives.

Caddy (router.py) writes one JSON entry per request to `router-access.log`. A thread here
reads what is new every POLL_S, writes each entry as the line Heroku's router logs for such a
request (the dyno from the upstream's address; `connect` and `service` in ms; Caddy's 503s
as H12 or H13, a user gone before the answer as H27), and POSTs the lines to the run's
receiver (`python -m metrics.drain`, basic auth) as Logplex does: `application/logplex-1`,
octet-counted RFC 5424 frames, a `Logplex-Frame-Id` per batch.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import json
import secrets
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from loadtests.processes import Process, free_port, python_module
from loadtests.setups import EXPOSED_DRAIN_PORT
from metrics.drain.frames import frame

# How often the thread looks for new entries: Heroku's Logplex delivers within a second or two.
POLL_S = 0.5
# Quiet this long, the access log holds every request answered so far: Caddy writes an entry
# as it finishes a request, and nothing else asks the router anything between a load's end
# and the reading after it.
QUIET_S = 0.2
# Lines per POST, as Logplex batches them; keeps one batch far below the receiver's 4 MiB.
BATCH_LINES = 1000
USERNAME = "local-logplex"

# Caddy's error status (its handle_errors `error_status`) or status -> Heroku's error code.
ERROR_CODES = {
    504: ("H12", "Request timeout"),  # no response started within the timeout
    502: ("H13", "Connection closed without response"),
}
# Caddy's status when the client closed the connection before the answer; Heroku logs 499 too.
CLIENT_GONE = 499
CLIENT_GONE_CODE = ("H27", "Client Request Interrupted")


def heroku_line(entry: dict, dynos: dict[str, str]) -> str:
    """The router line Heroku logs for the request in `entry` (one access-log entry);
    `dynos` names each upstream host:port (web.1, ...)."""
    request = entry["request"]
    status = entry["status"]
    proxy_ms = entry.get("proxy_duration_ms") or 0.0
    upstream_ms = entry.get("upstream_duration_ms")
    at, code = "info", None
    if status == CLIENT_GONE:
        code = CLIENT_GONE_CODE
    elif "error_status" in entry:
        at, code = "error", ERROR_CODES.get(entry["error_status"], ERROR_CODES[502])
    # Caddy does not time the connection itself: `connect` is the router's time before the
    # dyno's round trip began; `service` is the dyno's round trip (with the wait for one of
    # the router's connections to the dyno), or the whole proxying when it failed (H12:
    # the timeout).
    connect_ms = proxy_ms - upstream_ms if upstream_ms is not None else 0.0
    service_ms = upstream_ms if upstream_ms is not None else proxy_ms
    prefix = f'at={at} code={code[0]} desc="{code[1]}"' if code else f"at={at}"
    return (
        f'{prefix} method={request["method"]} path="{request["uri"]}" host={request["host"]} '
        f'fwd="{request["client_ip"]}" dyno={dynos.get(entry.get("upstream"), "")} '
        f"connect={max(0, round(connect_ms))}ms service={round(service_ms)}ms "
        f"status={status} bytes={entry['size']} protocol=http"
    )


def syslog_message(entry: dict, line: str) -> str:
    """The RFC 5424 message Logplex delivers for a router line (metrics/drain/records.py)."""
    stamp = datetime.datetime.fromtimestamp(entry["ts"], datetime.UTC).isoformat()
    return f"<158>1 {stamp} host heroku router - {line}"


class LocalLogplex:
    """Follows the access log and POSTs its new entries to `logs_url` as router lines: every
    POLL_S in a thread, and on `flush()`."""

    def __init__(
        self, access_log: Path, logs_url: str, auth: tuple[str, str], dynos: dict[str, str]
    ):
        self._access_log = access_log
        self._logs_url = logs_url
        self._authorization = "Basic " + base64.b64encode(":".join(auth).encode()).decode()
        self._dynos = dynos
        self._file = None
        self._partial = b""  # an entry Caddy had not finished writing at the last read
        self._lock = threading.Lock()  # the thread and flush() read the same file
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="local-logplex", daemon=True)
        self._error: Exception | None = None
        # What it cost: lines forwarded, and the CPU seconds spent reading and posting them.
        self.lines = 0
        self.cpu_s = 0.0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        if self._file is not None:
            self._file.close()

    def flush(self) -> None:
        """Forwards everything Caddy has logged, once the access log has been quiet for
        QUIET_S; raises the error that stopped the thread, if one did."""
        while True:
            time.sleep(QUIET_S)
            if not self.forward():
                break
        if self._error is not None:
            raise self._error

    def forward(self) -> int:
        """POSTs the entries written since the last call; returns how many."""
        with self._lock:
            started = time.thread_time()
            entries = self._new_entries()
            for first in range(0, len(entries), BATCH_LINES):
                self._post(entries[first : first + BATCH_LINES])
            self.lines += len(entries)
            self.cpu_s += time.thread_time() - started
            return len(entries)

    def _run(self) -> None:
        while not self._stop.wait(POLL_S):
            try:
                self.forward()
            except (OSError, ValueError) as error:  # flush() reports it
                self._error = error
                return

    def _new_entries(self) -> list[bytes]:
        if self._file is None:
            if not self._access_log.exists():  # Caddy creates it as it starts
                return []
            self._file = self._access_log.open("rb")
        lines = (self._partial + self._file.read()).split(b"\n")
        self._partial = lines.pop()
        return [line for line in lines if line]

    def _post(self, entries: list[bytes]) -> None:
        body = b"".join(
            frame(syslog_message(entry, heroku_line(entry, self._dynos)))
            for entry in map(json.loads, entries)
        )
        request = urllib.request.Request(self._logs_url, data=body, method="POST")
        request.add_header("Content-Type", "application/logplex-1")
        request.add_header("Authorization", self._authorization)
        request.add_header("Logplex-Msg-Count", str(len(entries)))
        request.add_header("Logplex-Frame-Id", secrets.token_hex(16))
        urllib.request.urlopen(request, timeout=10).close()


@dataclass
class LocalDrain:
    """The run's drain receiver (`python -m metrics.drain`) and the Logplex feeding it."""

    address: str  # host:port, which the run's Prometheus scrapes as job "drain"
    logplex: LocalLogplex

    @property
    def metrics_url(self) -> str:
        return f"http://{self.address}/metrics"


def start(
    stack: contextlib.ExitStack,
    run_dir: Path,
    access_log: Path,
    dynos: dict[str, str],
    exposed_on: str | None = None,
) -> LocalDrain:
    """Starts a receiver on a free loopback port (log: drain.log) and a Logplex following
    `access_log`; registers their stops on `stack`. `dynos`: upstream host:port -> dyno name.
    `exposed_on`: on that address (the Docker bridge's) and port EXPOSED_DRAIN_PORT instead,
    for the compose stack's Prometheus (`make loadtest GRAFANA=1`)."""
    host = exposed_on or "127.0.0.1"
    port = EXPOSED_DRAIN_PORT if exposed_on else free_port()
    address = f"{host}:{port}"
    password = secrets.token_urlsafe(24)  # the run's own: nothing else may post to it
    receiver = Process(
        "drain receiver",
        python_module(
            "metrics.drain",
            "--port",
            str(port),
            "--host",
            host,
        ),
        run_dir / "drain.log",
        # Tokens exported for a deployed app's receiver are not this one's: the Logplex sends
        # no drain token, and the runner reads /metrics like any local target.
        env={
            "DRAIN_USERNAME": USERNAME,
            "DRAIN_PASSWORD": password,
            "DRAIN_TOKEN": "",
            "DRAIN_METRICS_TOKEN": "",
        },
    )
    stack.callback(receiver.stop)
    receiver.wait_until_http_ok(f"http://{address}/healthz")
    logplex = LocalLogplex(access_log, f"http://{address}/logs", (USERNAME, password), dynos)
    logplex.start()
    stack.callback(logplex.stop)
    return LocalDrain(address, logplex)
