"""A small inline-SVG line chart, so report.html needs no JavaScript and no network."""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from dashboards.units import format_value

# Colour-blind-safe palette (Okabe-Ito); a series' colour is its position in the legend.
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#d55e00", "#56b4e9", "#000000")
WIDTH, HEIGHT = 440, 200
LEFT, RIGHT, TOP, BOTTOM = 64, 10, 10, 24
PLOT_BACKGROUND = "#fbfcfe"  # a tint of its own, so a screenshot test can find the plots
GRID_COLOUR = "#d9dce1"
Y_TICKS = 4


@dataclass(frozen=True)
class Series:
    name: str
    points: Sequence[tuple[float, float]]  # (unix seconds, value); NaN breaks the line


def _duration_label(seconds: float) -> str:
    if seconds >= 120:
        return f"{seconds / 60:.3g}m"
    return f"{seconds:.0f}s" if seconds >= 10 else f"{seconds:.1f}s"


def _segments(points, x, y):
    """Runs of finite points, each drawn as one polyline (gaps stay gaps)."""
    run: list[str] = []
    for t, v in points:
        if math.isfinite(v):
            run.append(f"{x(t):.1f},{y(v):.1f}")
        elif run:
            yield run
            run = []
    if run:
        yield run


def line_chart(series: Sequence[Series], start: float, end: float, unit: str) -> str:
    """An <svg> element: the series over [start, end], y from 0 (or the minimum) to the max."""
    values = [v for s in series for _, v in s.points if math.isfinite(v)]
    low = min(0.0, min(values, default=0.0))
    high = max(values, default=1.0)
    if high <= low:
        high = low + 1.0
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    span = max(end - start, 1e-9)

    def x(t: float) -> float:
        return LEFT + (t - start) / span * plot_w

    def y(v: float) -> float:
        return TOP + plot_h - (v - low) / (high - low) * plot_h

    parts = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" '
        f'height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" '
        'font-size="10">',
        f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" '
        f'fill="{PLOT_BACKGROUND}" stroke="{GRID_COLOUR}"/>',
    ]
    for tick in range(Y_TICKS + 1):
        value = low + (high - low) * tick / Y_TICKS
        ty = y(value)
        parts.append(
            f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{ty:.1f}" y2="{ty:.1f}" '
            f'stroke="{GRID_COLOUR}"/>'
            f'<text x="{LEFT - 4}" y="{ty + 3:.1f}" text-anchor="end">'
            f"{escape(format_value(value, unit))}</text>"
        )
    for fraction in (0, 0.5, 1):
        tx = LEFT + fraction * plot_w
        anchor = {0: "start", 0.5: "middle", 1: "end"}[fraction]
        parts.append(
            f'<text x="{tx:.1f}" y="{HEIGHT - 8}" text-anchor="{anchor}">'
            f"{_duration_label(fraction * span)}</text>"
        )
    for index, one in enumerate(series):
        colour = PALETTE[index % len(PALETTE)]
        for run in _segments(one.points, x, y):
            parts.append(
                f'<polyline fill="none" stroke="{colour}" stroke-width="2" '
                f'points="{" ".join(run)}"/>'
            )
    parts.append("</svg>")
    return "".join(parts)


def legend(series: Sequence[Series], unit: str) -> str:
    """HTML list of the series in chart colours, with each one's last value."""
    items = []
    for index, one in enumerate(series):
        colour = PALETTE[index % len(PALETTE)]
        finite = [v for _, v in one.points if math.isfinite(v)]
        last = format_value(finite[-1] if finite else None, unit)
        items.append(
            f'<li><span class="swatch" style="background:{colour}"></span>'
            f"{escape(one.name)} <b>{escape(last)}</b></li>"
        )
    return f'<ul class="legend">{"".join(items)}</ul>'
