"""The committed dashboard JSON: regenerated from the definitions, valid for the SDK's models,
stable uids, a datasource variable on every panel, and a description with runbook links."""

import json
import re
from pathlib import Path

import pytest
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.cog.plugins import register_default_plugins
from grafana_foundation_sdk.models.dashboard import Dashboard

from dashboards.build import JSON_DIR, rendered
from dashboards.grafana import RUN_ANNOTATION_EXTRA
from dashboards.panels import DASHBOARDS, expand
from metrics.alerting.config import RUNBOOK_BASE_URL
from metrics.alerting.rules import runbook_url

REPO = Path(__file__).resolve().parents[2]
FILES = [f"{definition.uid}.json" for definition in DASHBOARDS]


def alert_names() -> set[str]:
    """The alerts metrics/rules defines: a panel's runbook must belong to one of them."""
    rules = "".join(path.read_text() for path in (REPO / "metrics" / "rules").glob("*.yml"))
    return set(re.findall(r"^\s*- alert: (\w+)$", rules, re.MULTILINE))


def committed() -> dict[str, dict]:
    return {path.name: json.loads(path.read_text()) for path in sorted(JSON_DIR.glob("*.json"))}


def test_committed_json_is_what_the_definitions_generate():
    on_disk = {path.name: path.read_text() for path in JSON_DIR.glob("*.json")}
    assert on_disk == rendered(), "dashboards/json is stale: run `python -m dashboards.build`"


def test_uids_are_stable_and_unique():
    titles = {model["uid"]: model["title"] for model in committed().values()}
    assert titles == {
        "cce-loadtest": "Load test",
        "cce-app": "App and database",
        "cce-heroku": "Heroku",
    }
    assert all(f"{uid}.json" in committed() and len(uid) <= 40 for uid in titles)


@pytest.mark.parametrize("name", FILES)
def test_json_is_valid_for_the_sdk_models(name):
    """Decoding into the SDK's typed models and encoding again loses nothing: a misspelt or
    misplaced field would vanish. Only the annotation fields the SDK lacks are set aside."""
    register_default_plugins()  # decode each panel's options and queries into their own types
    model = committed()[name]
    decoded = Dashboard.from_json(model)
    again = json.loads(json.dumps(decoded, cls=JSONEncoder))
    for annotation in model["annotations"]["list"]:
        for key in RUN_ANNOTATION_EXTRA:
            annotation.pop(key, None)
    assert again == model
    options = {
        panel.type_val: type(panel.options).__module__.rsplit(".", 1)[-1]
        for panel in decoded.panels
        if panel.type_val != "row"
    }
    assert all(kind == module for kind, module in options.items()), options


@pytest.mark.parametrize("name", FILES)
def test_every_panel_and_query_reads_the_datasource_variable(name):
    model = committed()[name]
    variables = {v["name"]: v for v in model["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    wanted = {"type": "prometheus", "uid": "${datasource}"}
    for panel in model["panels"]:
        assert panel["datasource"] == wanted, panel["title"]
        for target in panel.get("targets", []):
            assert target["datasource"] == wanted, panel["title"]
    for annotation in model["annotations"]["list"]:
        assert annotation["datasource"] == wanted


def test_variables_select_scenario_job_and_dyno():
    models = {model["uid"]: model for model in committed().values()}

    def variable(uid, name):
        return next(v for v in models[uid]["templating"]["list"] if v["name"] == name)

    assert variable("cce-loadtest", "scenario")["query"] == "label_values(locust_users, scenario)"
    assert variable("cce-app", "job")["query"] == "label_values(app_info, job)"
    assert variable("cce-app", "dyno")["query"] == 'label_values(app_info{job=~"$job"}, dyno)'
    # "All" jobs are the listed ones (Grafana's own), not `.*`, which would take in Locust's
    # and Prometheus's own process_cpu_seconds_total.
    assert not variable("cce-app", "job").get("allValue")
    heroku_dyno = "label_values(heroku_router_requests_total, dyno)"
    assert variable("cce-heroku", "dyno")["query"] == heroku_dyno

    def exprs(uid):
        return [t["expr"] for p in models[uid]["panels"] for t in p.get("targets", [])]

    assert all('scenario=~"$scenario"' in expr for expr in exprs("cce-loadtest"))
    # No job name is written into a panel: the app is scraped under a job of the user's naming.
    # (PostgreSQL's and PgBouncer's own series are the same from whichever job reads them.)
    app_exprs = [e for e in exprs("cce-app") if 'dyno=~"$dyno"' in e or e.startswith("job:")]
    assert app_exprs and all('job=~"$job"' in expr for expr in app_exprs), app_exprs
    assert not any('job="' in expr for uid in models for expr in exprs(uid))
    # Every per-dyno Heroku series is filtered by the variable; the database's and Redis' are
    # per add-on, the router's protocol counter is for the whole app (it has no dyno label).
    per_add_on = ("heroku_postgres", "heroku_pgbouncer", "heroku_redis", "ALERTS")
    whole_app = "heroku_router_protocol_requests"
    per_dyno = [e for e in exprs("cce-heroku") if not any(n in e for n in (*per_add_on, whole_app))]
    assert per_dyno and all('dyno=~"$dyno"' in expr for expr in per_dyno)


def test_annotation_marks_where_a_test_ran():
    for model in committed().values():
        (annotation,) = model["annotations"]["list"]
        assert annotation["expr"] == "locust_users > 0"
        assert annotation["useValueForTime"] is False and annotation["step"]


def test_every_panel_says_healthy_failing_and_links_existing_runbooks():
    alerts = alert_names()
    for definition in DASHBOARDS:
        for panel in definition.panels:
            text = panel.description
            assert "**Healthy:**" in text and "**Failing:**" in text, panel.title
            assert set(panel.runbooks) <= alerts, panel.title
            for name in panel.runbooks:
                assert f"]({runbook_url(name)})" in text
    base = re.escape(RUNBOOK_BASE_URL)
    links = set(re.findall(rf"{base}(\w+)\.md", json.dumps(committed())))
    assert len(links) >= 9
    assert {"HerokuRequestTimeouts", "HerokuConnectionsClosed", "HerokuMemoryOverQuota"} <= links
    assert [name for name in links if not (REPO / "runbooks" / f"{name}.md").exists()] == []


def test_expand_replaces_grafana_variables():
    expr = 'x{s=~"$scenario"}[$__range] / ($__range_s / 60) + rate(y[$__rate_interval])'
    assert expand(expr, range_s=300, scenario="test5") == (
        'x{s=~"test5"}[300s] / (300 / 60) + rate(y[1m])'
    )


def test_panels_the_runbooks_name_exist():
    """A runbook sends the reader to panels by their titles in bold (**Waitress queue depth**):
    renaming a panel must not leave a runbook pointing at nothing. Single words in bold (H12,
    R14) are codes, not panels."""
    titles = {panel.title for definition in DASHBOARDS for panel in definition.panels}
    named = {
        (page.name, " ".join(bold.split()))  # a title may wrap across lines
        for page in (REPO / "runbooks").glob("*.md")
        if page.name != "README.md"
        for bold in re.findall(r"\*\*([^*]+)\*\*", page.read_text())
        if len(bold.split()) > 1
    }
    assert len(named) >= 10
    assert sorted((page, bold) for page, bold in named if bold not in titles) == []
