"""The Heroku alert rules: promtool's own tests, and runbook links that resolve."""

import re
import subprocess

from tests.conftest import ROOT
from tests.drain.helpers import require_binary

RULES = ROOT / "metrics" / "rules" / "heroku.yml"
RUNBOOK_BASE = "https://github.com/connected-content-example/connected-content-example/blob/main/"
# Pages for contract alerts are written with the generated rules, not here.
CONTRACT_ALERTS = {"DatabaseConnectionsNearLimit"}


def _alerts_and_runbooks() -> list[tuple[str, str]]:
    text = RULES.read_text()
    names = re.findall(r"^\s*- alert: (\w+)$", text, re.MULTILINE)
    urls = re.findall(r"^\s*runbook_url: (\S+)$", text, re.MULTILINE)
    assert len(names) == len(urls) == 4, "every alert needs exactly one runbook_url"
    return list(zip(names, urls, strict=True))


def test_promtool_rule_tests_pass():
    promtool = require_binary("promtool")
    result = subprocess.run(
        [promtool, "test", "rules", "metrics/tests/heroku_test.yml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_runbook_url_is_derived_from_the_alert_name_and_the_page_exists():
    for name, url in _alerts_and_runbooks():
        assert url == f"{RUNBOOK_BASE}runbooks/{name}.md"
        if name in CONTRACT_ALERTS:
            continue
        page = (ROOT / "runbooks" / f"{name}.md").read_text()
        assert page.startswith(f"# {name}\n")
        for section in ("Meaning", "Impact", "Diagnosis", "Mitigation", "Verify"):
            assert f"\n## {section}\n" in page, f"{name}.md has no {section} section"
