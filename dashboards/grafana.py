"""Turn the panel definitions into Grafana dashboard JSON with grafana-foundation-sdk."""

import json

from grafana_foundation_sdk.builders import dashboard as sdk
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import (
    DashboardCursorSync,
    VariableOption,
    VariableRefresh,
    VariableSort,
)

from dashboards import defaults
from dashboards.factories import FACTORIES, datasource_ref
from dashboards.panels import Dashboard

# Where a load test ran: locust_users is exported only while a test runs, and Grafana's
# Prometheus annotations join consecutive samples into one region from start to stop.
RUN_ANNOTATION_NAME = "Load test running"
RUN_ANNOTATION_EXPR = "locust_users > 0"

# Fields of a Prometheus annotation query the SDK's AnnotationQuery model does not have (it
# knows only `expr`); see README.md. Without `step` Grafana samples at its own resolution; the
# title names the scenario instead of the raw series.
RUN_ANNOTATION_EXTRA = {
    "step": "15s",
    "titleFormat": "Load test {{scenario}}",
    "tagKeys": "scenario",
    "useValueForTime": False,
}


def _datasource_variable() -> sdk.DatasourceVariable:
    return (
        sdk.DatasourceVariable(defaults.DATASOURCE_VARIABLE)
        .label("Data source")
        .type(defaults.DATASOURCE_TYPE)
        .current(
            VariableOption(
                selected=True,
                text=defaults.PROVISIONED_DATASOURCE_UID,
                value=defaults.PROVISIONED_DATASOURCE_UID,
            )
        )
    )


def _query_variable(name: str, label: str, query: str, all_value: str | None) -> sdk.QueryVariable:
    variable = (
        sdk.QueryVariable(name)
        .label(label)
        .query(query)
        .datasource(datasource_ref())
        .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(VariableSort.ALPHABETICAL_ASC)
        .multi(True)
        .include_all(True)
        .current(VariableOption(selected=True, text="All", value="$__all"))
    )
    return variable if all_value is None else variable.all_value(all_value)


def _run_annotation() -> sdk.AnnotationQuery:
    return (
        sdk.AnnotationQuery()
        .name(RUN_ANNOTATION_NAME)
        .datasource(datasource_ref())
        .enable(True)
        .icon_color("rgba(0, 211, 255, 0.3)")
        .expr(RUN_ANNOTATION_EXPR)
    )


def dashboard_json(definition: Dashboard) -> dict:
    """The dashboard as Grafana's JSON model (a plain dict, ready for json.dumps)."""
    builder = (
        sdk.Dashboard(definition.title)
        .uid(definition.uid)
        .description(definition.description)
        .tags(defaults.TAGS)
        .editable()
        .tooltip(DashboardCursorSync.CROSSHAIR)
        .time(defaults.DEFAULT_TIME_FROM, "now")
        .refresh(defaults.DEFAULT_REFRESH)
        .timezone("browser")
        .with_variable(_datasource_variable())
        .annotation(_run_annotation())
    )
    for variable in definition.variables:
        builder = builder.with_variable(
            _query_variable(variable.name, variable.label, variable.query, variable.all_value)
        )
    # Rows stay expanded with their panels beside them at the top level, the layout Grafana
    # saves for open rows; ids only need to be unique within the dashboard.
    next_id = iter(range(1, 1000))
    for row in definition.rows:
        builder = builder.with_row(
            sdk.Row(row.title).id(next(next_id)).collapsed(False).datasource(datasource_ref())
        )
        for panel in row.panels:
            builder = builder.with_panel(FACTORIES[panel.kind](panel).id(next(next_id)))
    model = json.loads(json.dumps(builder.build(), cls=JSONEncoder))
    for annotation in model["annotations"]["list"]:
        if annotation.get("expr") == RUN_ANNOTATION_EXPR:
            annotation.update(RUN_ANNOTATION_EXTRA)
    return model


def dashboard_text(definition: Dashboard) -> str:
    """The committed file's exact text: sorted keys for clean diffs, a trailing newline."""
    return json.dumps(dashboard_json(definition), indent=2, sort_keys=True) + "\n"
