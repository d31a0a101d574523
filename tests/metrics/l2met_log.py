"""Read the l2met lines a server printed (dyno_metrics/l2met.py) from its log."""

from pathlib import Path

DYNO = "web.1"
LINE_START = f"source={DYNO} "


def lines(log: Path) -> list[str]:
    return [line for line in log.read_text().splitlines() if line.startswith(LINE_START)]


def newest(log: Path) -> dict[str, int] | None:
    """The newest line's samples, {name: value}; None before the first line."""
    found = lines(log)
    if not found:
        return None
    pairs = (token.partition("=") for token in found[-1][len(LINE_START) :].split())
    return {key.removeprefix("sample#"): int(value) for key, _, value in pairs}
