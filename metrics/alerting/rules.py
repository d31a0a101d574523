"""Small helpers every rule module shares: durations, the runbook link, the alert shape."""

from metrics.alerting.config import RUNBOOK_BASE_URL

SEVERITIES = ("critical", "warning", "info")


def duration(seconds: int) -> str:
    """Seconds as a Prometheus duration in its largest whole unit: 3600 -> "1h", 90 -> "90s"."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def number(value: float) -> str:
    """A threshold as PromQL reads it, without float noise: 14.4 * 0.001 -> "0.0144"."""
    return f"{value:.6g}"


def runbook_url(alert_name: str) -> str:
    """The page for an alert, derived from its name so the two cannot disagree."""
    return f"{RUNBOOK_BASE_URL}{alert_name}.md"


def _expr(text: str) -> str:
    """PromQL as written in the rule file: one line stays inline, several become a block."""
    text = text.strip()
    return text + "\n" if "\n" in text else text


def alert(
    name: str,
    expr: str,
    for_seconds: int,
    severity: str,
    summary: str,
    description: str,
    labels: dict[str, str] | None = None,
) -> dict:
    """One alerting rule in the mixin shape: severity label, summary, description, runbook_url."""
    if severity not in SEVERITIES:
        raise ValueError(f"{name}: severity {severity!r} is not one of {SEVERITIES}")
    if not summary.endswith("."):
        raise ValueError(f"{name}: summary must be a sentence ending with a period")
    return {
        "alert": name,
        "expr": _expr(expr),
        "for": duration(for_seconds),
        "labels": {"severity": severity, **(labels or {})},
        "annotations": {
            "summary": summary,
            "description": description,
            "runbook_url": runbook_url(name),
        },
    }


def record(name: str, expr: str) -> dict:
    """One recording rule; `name` follows level:metric:operations."""
    return {"record": name, "expr": _expr(expr)}
