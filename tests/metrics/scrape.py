"""Read a /metrics page into {(name, labels): value} with prometheus-client's own parser."""

import requests
from prometheus_client.parser import text_string_to_metric_families


def scrape(base_url: str, **kwargs) -> dict[tuple[str, frozenset], float]:
    response = requests.get(f"{base_url}/metrics", timeout=5, **kwargs)
    response.raise_for_status()
    return parse(response.text)


def parse(text: str) -> dict[tuple[str, frozenset], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def total(samples: dict, name: str, **labels: str) -> float:
    """Sum of a series over every label set that includes `labels`."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= ls)
