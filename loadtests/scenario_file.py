"""A scenario file's top-level mapping, read as TOML or YAML by the file's suffix, with a
one-line error for a file that cannot be read or parsed. What its keys mean, and how their
values are checked: user_requests.read_file."""

from __future__ import annotations

import tomllib
from pathlib import Path

import yaml

FORMATS = {".toml": "TOML", ".yaml": "YAML", ".yml": "YAML"}


class UnreadableScenarioFile(ValueError):
    """A scenario file that cannot be read, or is not a mapping in its format: one line."""


class UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader (no Python objects from tags) that refuses a key given twice in one
    mapping, as TOML does: PyYAML alone keeps the last one and drops the others silently."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":  # `<<: *defaults` may repeat keys
                continue
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, str) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} is given twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep)


def load(path: Path) -> dict:
    """The file's settings as a dict (keys and values as the format gives them)."""
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise UnreadableScenarioFile(
            f"{path} must end in .toml, .yaml or .yml (TOML or YAML), got {path.suffix or 'none'}"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise UnreadableScenarioFile(f"cannot read {path}: {error.strerror}") from None
    except UnicodeDecodeError as error:
        raise UnreadableScenarioFile(f"{path} is not {kind}: {error}") from None
    if kind == "TOML":
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            raise UnreadableScenarioFile(f"{path} is not TOML: {error}") from None
    try:
        data = yaml.load(text, Loader=UniqueKeyLoader)  # a SafeLoader: no Python objects
    except yaml.YAMLError as error:
        raise UnreadableScenarioFile(f"{path} is not YAML: {_one_line(error)}") from None
    if not isinstance(data, dict):
        got = "nothing" if data is None else f"a {type(data).__name__}"
        raise UnreadableScenarioFile(
            f"{path} must hold a YAML mapping of settings ('paths:', 'method:', ...), got {got}"
        )
    return data


def _one_line(error: yaml.YAMLError) -> str:
    """PyYAML's message (several lines, quoting the text) as TOML's: what, then where."""
    mark = getattr(error, "problem_mark", None)
    what = ", ".join(
        part for part in (getattr(error, "context", None), getattr(error, "problem", None)) if part
    )
    where = f" (at line {mark.line + 1}, column {mark.column + 1})" if mark else ""
    return " ".join(f"{what or error}{where}".split())
