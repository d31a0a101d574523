"""What a run with --grafana does for the compose stack (docker-compose.observability.yml):
listens where the stack's containers reach the host, and tells the stack's Prometheus where
the run is, in targets files of its own that it removes at the end.

The containers reach the host as host.docker.internal, which the compose file maps to
`host-gateway`: on Linux, Docker Engine's default bridge address (docker0's, 172.17.0.1 by
default; https://github.com/moby/moby/pull/40007). A server bound to that address answers
the containers but not other machines on the network, as one bound to 0.0.0.0 would.
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import psutil

from loadtests import lifeline
from loadtests.setups import CONTAINER_HOST, EXPOSED_DRAIN_PORT

ROOT = Path(__file__).resolve().parent.parent
BRIDGE = "docker0"
# The compose Prometheus reads these beside the user's own (metrics/prometheus.yml); git
# ignores them (.gitignore: metrics/targets/run-*.json).
TARGETS_DIR = ROOT / "metrics" / "targets"


def listen_address(interface: str = BRIDGE) -> tuple[str, str | None]:
    """The IPv4 address of Docker's bridge, and None; without one, loopback and the line
    that says what that means."""
    for address in psutil.net_if_addrs().get(interface, []):
        if address.family == socket.AF_INET:
            return address.address, None
    return "127.0.0.1", (
        f"--grafana: no {interface} interface here, so the run listens on 127.0.0.1 only, which "
        "Docker Desktop's host.docker.internal reaches; with Docker Engine on Linux, start "
        "Docker first or the stack cannot see the run"
    )


def targets(dynos: dict[str, int], exporter_port: int, drain: bool) -> dict[str, list]:
    """File name -> target groups: each dyno (name -> port) with its `dyno` label, the Locust
    exporter and, when the run has its own, the drain receiver, as the containers reach them."""

    def at(port: int) -> list[str]:
        return [f"{CONTAINER_HOST}:{port}"]

    files = {"run-locust.json": [{"targets": at(exporter_port)}]}
    if dynos:
        files["run-app.json"] = [
            {"targets": at(port), "labels": {"dyno": name}} for name, port in dynos.items()
        ]
    if drain:
        files["run-drain.json"] = [{"targets": at(EXPOSED_DRAIN_PORT)}]
    return files


def write_targets(groups: dict[str, list], directory: Path = TARGETS_DIR) -> list[Path]:
    """Writes each file whole (Prometheus re-reads a file as it changes, so never a half-written
    one); the run's lifeline removes them should the run die before `remove_targets`."""
    written = []
    for name, content in groups.items():
        path = directory / name
        partial = path.with_name(f".{name}.{os.getpid()}")
        partial.write_text(json.dumps(content, indent=2) + "\n")
        lifeline.watch("file", path)
        partial.replace(path)
        written.append(path)
    return written


def remove_targets(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)
        lifeline.forget("file", path)
