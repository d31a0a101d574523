"""Regenerate dashboards/json/<uid>.json from the panel definitions: `python -m dashboards.build`.

A test regenerates them in memory and fails on any difference with the committed files.
"""

from pathlib import Path

from dashboards.grafana import dashboard_text
from dashboards.panels import DASHBOARDS

JSON_DIR = Path(__file__).resolve().parent / "json"


def rendered() -> dict[str, str]:
    """File name to exact file text, for every dashboard."""
    return {f"{definition.uid}.json": dashboard_text(definition) for definition in DASHBOARDS}


def main() -> None:
    JSON_DIR.mkdir(exist_ok=True)
    for name, text in rendered().items():
        (JSON_DIR / name).write_text(text, encoding="utf-8")
        print(f"wrote dashboards/json/{name}")


if __name__ == "__main__":
    main()
