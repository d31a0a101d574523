"""Every alert links to a runbook page that exists and has the sections a newcomer needs."""

import re

import pytest
import yaml

from metrics.alerting.config import RUNBOOK_BASE_URL
from tests.alerting.alerting_support import METRICS, RUNBOOKS

CONTRACT_ALERTS = {
    "DatabaseConnectionsNearLimit",
    "DatabaseConnectionErrors",
    "HighErrorRate",
    "BadRequestSurge",
    "HighLatency",
    "RequestQueueing",
    "AppDown",
    "LoadGeneratorSaturated",
}
SECTIONS = ["Meaning", "Impact", "Diagnosis", "Mitigation", "Verify"]


def committed_alerts() -> list[dict]:
    alerts = []
    for path in sorted((METRICS / "rules").glob("*.yml")):
        for group in yaml.safe_load(path.read_text())["groups"]:
            alerts += [rule for rule in group["rules"] if "alert" in rule]
    return alerts


ALERTS = committed_alerts()
NAMES = sorted({a["alert"] for a in ALERTS})


def test_the_contracts_alerts_all_exist():
    assert set(NAMES) >= CONTRACT_ALERTS, CONTRACT_ALERTS - set(NAMES)


@pytest.mark.parametrize("rule", ALERTS, ids=lambda r: f"{r['alert']}-{r['labels']['severity']}")
def test_every_alert_has_severity_summary_description_and_its_runbook(rule):
    assert rule["labels"]["severity"] in {"critical", "warning", "info"}
    annotations = rule["annotations"]
    assert annotations["summary"].endswith(".") and "{{" not in annotations["summary"]
    assert "{{ $labels." in annotations["description"]
    url = annotations["runbook_url"]
    assert url == f"{RUNBOOK_BASE_URL}{rule['alert']}.md"
    assert (RUNBOOKS / url.removeprefix(RUNBOOK_BASE_URL)).is_file(), f"no page for {url}"


@pytest.mark.parametrize("name", NAMES)
def test_runbook_page_has_title_and_sections_in_order(name):
    text = (RUNBOOKS / f"{name}.md").read_text()
    assert text.splitlines()[0] == f"# {name}"
    headings = re.findall(r"^## (.+)$", text, flags=re.MULTILINE)
    assert [h for h in headings if h in SECTIONS] == SECTIONS, headings
    meaning = text.split("## Meaning", 1)[1].split("##", 1)[0].strip()
    assert meaning, f"{name}: empty Meaning"


def test_no_page_without_an_alert_and_every_page_indexed():
    pages = {p.stem for p in RUNBOOKS.glob("*.md")} - {"README"}
    assert pages == set(NAMES)
    index = (RUNBOOKS / "README.md").read_text()
    for name in NAMES:
        assert f"({name}.md)" in index, f"README.md does not link {name}"


def test_links_between_pages_resolve():
    for page in RUNBOOKS.glob("*.md"):
        for target in re.findall(r"\]\(([A-Za-z]+\.md)\)", page.read_text()):
            assert (RUNBOOKS / target).is_file(), f"{page.name} links missing {target}"
