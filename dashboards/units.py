"""Format a value in a panel's Grafana unit, the way the report prints it."""

import math


def _si(value: float) -> str:
    for factor, suffix in ((1e6, "M"), (1e3, "k")):
        if abs(value) >= factor:
            return f"{value / factor:.3g}{suffix}"
    return f"{value:.3g}"


def format_value(value: float | None, unit: str) -> str:
    """`value` in `unit` (one of the Grafana units the panels use) as short text."""
    if value is None or math.isnan(value):
        return "no data"
    if math.isinf(value):
        return "∞"
    if unit == "s":
        return f"{value * 1000:.0f} ms" if abs(value) < 1 else f"{value:.3g} s"
    if unit == "percentunit":
        return f"{value * 100:.3g}%"
    if unit == "reqpm":
        return f"{_si(value)} req/min"
    if unit == "reqps":
        return f"{_si(value)} req/s"
    return _si(value)
