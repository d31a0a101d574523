"""One small factory per Grafana panel kind, built with grafana-foundation-sdk.

Each takes a panel definition from dashboards.panels and returns an SDK builder; the datasource
variable, sizes and legend placement come from dashboards.defaults.
"""

from collections.abc import Callable

from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import prometheus, stat, table, timeseries
from grafana_foundation_sdk.builders.dashboard import Panel as PanelBuilder
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models.dashboard import DataSourceRef
from grafana_foundation_sdk.models.prometheus import PromQueryFormat

from dashboards import defaults
from dashboards.panels import Panel


def datasource_ref() -> DataSourceRef:
    """Every panel and annotation reads from the datasource the dashboard variable selects."""
    return DataSourceRef(
        type_val=defaults.DATASOURCE_TYPE, uid=f"${{{defaults.DATASOURCE_VARIABLE}}}"
    )


def _targets(panel: Panel, *, instant: bool, table_format: bool = False):
    for index, query in enumerate(panel.queries):
        target = (
            prometheus.Dataquery()
            .expr(query.expr)
            .legend_format(query.legend)
            .ref_id(chr(ord("A") + index))
            .datasource(datasource_ref())
        )
        target = target.instant() if instant else target.range()
        if table_format:
            target = target.format(PromQueryFormat.TABLE)
        yield target


def _common(builder, panel: Panel, width: int, height: int):
    builder = (
        builder.title(panel.title)
        .description(panel.description)
        .datasource(datasource_ref())
        .unit(panel.unit)
        .span(width)
        .height(height)
    )
    for target in _targets(
        panel, instant=panel.kind != "timeseries", table_format=panel.kind == "table"
    ):
        builder = builder.with_target(target)
    return builder


def stat_panel(panel: Panel) -> PanelBuilder:
    """A big number for the seed-style summary row; seven of them fill the 24-column grid."""
    return (
        _common(stat.Panel(), panel, width=defaults.GRID_WIDTH // 7, height=defaults.STAT_HEIGHT)
        .graph_mode(common.BigValueGraphMode.NONE)
        .reduce_options(common_builders.ReduceDataOptions().calcs(["lastNotNull"]))
    )


def timeseries_panel(panel: Panel) -> PanelBuilder:
    """A line chart, two per row, legend below as a table with the last and max values."""
    return (
        _common(
            timeseries.Panel(), panel, width=defaults.GRID_WIDTH // 2, height=defaults.CHART_HEIGHT
        )
        .line_width(2)
        .fill_opacity(0)
        # A missing scrape stays a gap rather than a line drawn across a stopped app.
        .span_nulls(False)
        .legend(
            common_builders.VizLegendOptions()
            .display_mode(common.LegendDisplayMode.TABLE)
            .placement(common.LegendPlacement.BOTTOM)
            .show_legend(True)
            .calcs(["lastNotNull", "max"])
        )
    )


def table_panel(panel: Panel) -> PanelBuilder:
    """A full-width table of the instant query's series."""
    return _common(
        table.Panel(), panel, width=defaults.GRID_WIDTH, height=defaults.TABLE_HEIGHT
    ).show_header(True)


FACTORIES: dict[str, Callable[[Panel], PanelBuilder]] = {
    "stat": stat_panel,
    "timeseries": timeseries_panel,
    "table": table_panel,
}
