"""Helpers for the drain tests: Logplex framing, an HTTP client for a receiver, and the
binaries the tests need."""

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

FIXTURES = Path(__file__).parent / "fixtures"
USERNAME, PASSWORD = "drain-user", "s3cret-drain-password"


def fixture_messages(name: str = "drain_messages.txt") -> list[str]:
    return (FIXTURES / name).read_text().splitlines()


class Receiver:
    """Talks HTTP to a receiver on 127.0.0.1."""

    def __init__(self, port: int):
        self.url = f"http://127.0.0.1:{port}"

    def post(self, body: bytes, frame_id=None, auth=(USERNAME, PASSWORD), headers=None) -> int:
        request = urllib.request.Request(f"{self.url}/logs", data=body, method="POST")
        request.add_header("Content-Type", "application/logplex-1")
        request.add_header("Logplex-Msg-Count", str(body.count(b"\n")))
        if frame_id is not None:
            request.add_header("Logplex-Frame-Id", frame_id)
        if auth is not None:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            request.add_header("Authorization", f"Basic {token}")
        for key, value in (headers or {}).items():
            request.add_header(key, value)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    def scrape(self) -> dict[tuple[str, tuple], float]:
        """GET /metrics as {(sample name, sorted labels): value}."""
        with urllib.request.urlopen(f"{self.url}/metrics", timeout=30) as response:
            text = response.read().decode()
        return {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        }


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))))


def prometheus_query(base_url: str, query: str, at: str) -> dict[str, float]:
    """An instant query, as {value of the first label: value}."""
    params = urllib.parse.urlencode({"query": query, "time": at})
    with urllib.request.urlopen(f"{base_url}/api/v1/query?{params}", timeout=30) as response:
        result = json.load(response)["data"]["result"]
    return {next(iter(item["metric"].values()), ""): float(item["value"][1]) for item in result}
