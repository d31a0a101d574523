"""docker-compose.observability.yml: valid for Debian's docker-compose (v1, validates without an
engine), every file it mounts exists, images pinned, Grafana provisioned without anonymous
access; the provisioning files point where the compose file mounts them."""

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from dashboards.defaults import PROVISIONED_DATASOURCE_UID

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "docker-compose.observability.yml"
PROVISIONING = REPO / "dashboards" / "provisioning"


def compose_config(password: str | None = "test-only") -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "GRAFANA_ADMIN_PASSWORD"}
    if password is not None:
        env["GRAFANA_ADMIN_PASSWORD"] = password
    return subprocess.run(
        ["docker-compose", "-f", str(COMPOSE), "--profile", "postgres-exporter", "config"],
        capture_output=True, text=True, env=env, cwd=REPO, timeout=60, check=False,
    )  # fmt: skip


@pytest.fixture(scope="module")
def config(docker_compose) -> str:
    result = compose_config()
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_compose_file_is_valid_and_defines_the_stack(config):
    services = set(re.findall(r"^  ([a-z-]+):$", config.split("\nvolumes:")[0], re.MULTILINE))
    assert {"prometheus", "alertmanager", "grafana", "postgres-exporter", "drain"} <= services
    assert config.count("host.docker.internal:host-gateway") == 4


def test_grafana_needs_an_admin_password(docker_compose):
    result = compose_config(password=None)
    assert result.returncode != 0
    assert "set GRAFANA_ADMIN_PASSWORD" in result.stderr


def test_every_mounted_file_exists(config):
    binds = re.findall(r"^\s+- (/[^:\s]+):([^:\s]+)(?::r[ow])?$", config, re.MULTILINE)
    assert binds, "no bind mounts found in the normalised config"
    missing = [source for source, _ in binds if not Path(source).exists()]
    assert missing == []
    # Files a container reads through a mounted folder must exist too.
    for argument in re.findall(r"--config\.file=(\S+)", config):
        host = [
            Path(source) / Path(argument).relative_to(target)
            for source, target in binds
            if Path(argument).is_relative_to(target)
        ]
        assert host and all(path.exists() for path in host), argument


def test_images_are_pinned_and_grafana_is_closed(config):
    images = re.findall(r"^\s+image: (\S+)$", config, re.MULTILINE)
    assert len(images) == 6  # one per service
    # A full version, optionally with a variant (python:3.11.11-slim-bookworm): never "latest".
    assert all(re.search(r":v?\d+\.\d+\.\d+(-[a-z0-9.-]+)?$", image) for image in images), images
    assert 'GF_AUTH_ANONYMOUS_ENABLED: "false"' in config
    assert "GF_SECURITY_ADMIN_PASSWORD: test-only" in config
    assert set(re.findall(r"- (\S+):\d+:\d+/tcp", config)) == {"127.0.0.1"}


def test_provisioning_matches_the_compose_mounts(config):
    datasource = (PROVISIONING / "datasources" / "prometheus.yaml").read_text()
    assert "apiVersion: 1" in datasource
    assert f"uid: {PROVISIONED_DATASOURCE_UID}" in datasource
    assert "url: http://prometheus:9090" in datasource
    provider = (PROVISIONING / "dashboards" / "cce.yaml").read_text()
    (path,) = re.findall(r"path: (\S+)", provider)
    assert f"{REPO / 'dashboards' / 'json'}:{path}:ro" in config
    assert f"{PROVISIONING}:/etc/grafana/provisioning:ro" in config


def test_every_scrape_job_reads_target_files_that_list_nothing_until_you_add_it():
    """The compose Prometheus (metrics/ mounted at /etc/prometheus) scrapes every contract job,
    `postgres` and the stack's own receiver (`drain-stack`, as job "drain"). Each job's own file
    exists beside it as an empty list of target groups, so nothing is down on a fresh stack;
    the run-*.json files are a --grafana run's (loadtests.compose), git-ignored."""
    metrics = REPO / "metrics"
    config = yaml.safe_load((metrics / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    contract = {"app", "locust", "heroku-app", "drain", "alertmanager", "prometheus"}
    assert set(jobs) == contract | {"postgres", "drain-stack"}
    run_files = []
    for job in jobs.values():
        for sd in job.get("file_sd_configs", []):
            for file in sd["files"]:
                if Path(file).name.startswith("run-"):
                    run_files.append(file)
                    continue
                assert json.loads((metrics / file).read_text()) == [], file
    assert sorted(run_files) == ["targets/run-app.json", "targets/run-drain.json",
                                 "targets/run-locust.json"]  # fmt: skip
    assert jobs["drain-stack"]["relabel_configs"] == [
        {"target_label": "job", "replacement": "drain"}
    ]


def git_ignored(path: str) -> bool:
    return (
        subprocess.run(["git", "check-ignore", "-q", path], cwd=REPO, check=False).returncode == 0
    )


def test_secrets_come_from_files_git_ignores_beside_a_tracked_example(config):
    tracked = subprocess.run(
        ["git", "ls-files", "metrics"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    for secret in ("metrics/heroku_metrics_token", "metrics/drain_metrics_token"):
        assert git_ignored(secret) and secret not in tracked, secret
        assert f"{secret}.example" in tracked, secret
        name = Path(secret).name
        assert f"credentials_file: {name}" in (REPO / "metrics" / "prometheus.yml").read_text()
    assert git_ignored("metrics/targets/run-app.json")
    # The stack's receiver can be given its /metrics token, like one run on the host.
    assert "DRAIN_METRICS_TOKEN: ''" in config or "DRAIN_METRICS_TOKEN: ${" in config
