"""What each user asks for and what a good answer is: the seed's page by default, or the
user's own paths, method, headers and expectations (`--path`, ..., or `--scenario-file`).

The declared paths are the only request names Locust records, so the `path` label on the
exporter's series and the summary's rows are bounded by the user's own list (at most
MAX_PATHS), never by the URLs a server sends back.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from loadtests import scenario_file

# The seed's page: every 200 carries exactly 140 characters (re.search with DOTALL).
SEED_BODY = r"(?s)\A.{140}\Z"
# A label's values stay few: a dashboard line per path, a summary row per path.
MAX_PATHS = 20
MAX_PATH_CHARS = 200
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
# RFC 9110's token: the characters a header name may hold.
HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


class BadRequestSpec(ValueError):
    """A bad --path, --header, ... or scenario file: one line, exit status 2."""


@dataclass(frozen=True)
class WeightedPath:
    path: str
    weight: int = 1


@dataclass(frozen=True)
class UserRequests:
    paths: tuple[WeightedPath, ...] = (WeightedPath("/"),)
    method: str = "GET"
    headers: dict[str, str] = field(default_factory=dict)
    expect_status: int = 200
    # A regular expression searched for in the body (None: any body).
    expect_body: str | None = SEED_BODY

    @property
    def is_seed(self) -> bool:
        return self == UserRequests()

    @property
    def names(self) -> list[str]:
        """The request names Locust records: the declared paths, in their order."""
        return [p.path for p in self.paths]

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> UserRequests:
        fields = json.loads(text)
        fields["paths"] = tuple(WeightedPath(**p) for p in fields["paths"])
        return cls(**fields)


def weighted_path(text: str) -> WeightedPath:
    """`PATH` or `PATH=WEIGHT`: the weight is a whole number after the last `=` (a path whose
    query ends in `=digits`, `/search?page=2`, takes an explicit weight: `/search?page=2=1`)."""
    path, equals, weight = text.rpartition("=")
    if not equals or not weight.isdigit():
        path, weight = text, "1"
    if not path.startswith("/") or len(path) > MAX_PATH_CHARS or any(c.isspace() for c in path):
        raise BadRequestSpec(
            f"must start with / and hold no spaces (at most {MAX_PATH_CHARS} characters), "
            f"got {text!r}"
        )
    if int(weight) < 1:
        raise BadRequestSpec(f"must have a weight of 1 or more, got {text!r}")
    return WeightedPath(path, int(weight))


def header(text: str) -> tuple[str, str]:
    """`Name: value`."""
    name, colon, value = text.partition(":")
    if not colon or not HEADER_NAME.fullmatch(name) or "\r" in value or "\n" in value:
        raise BadRequestSpec(f"must be 'Name: value', got {text!r}")
    return name, value.strip()


def method(text: str) -> str:
    if text.upper() not in METHODS:
        raise BadRequestSpec(f"must be one of {', '.join(METHODS)}, got {text!r}")
    return text.upper()


def status(value: object) -> int:
    if isinstance(value, bool) or not str(value).isdigit() or not 100 <= int(value) <= 599:
        raise BadRequestSpec(f"must be an HTTP status, 100 to 599, got {value!r}")
    return int(value)


def body_pattern(text: str) -> str:
    try:
        re.compile(text)
    except re.error as error:
        raise BadRequestSpec(f"must be a regular expression: {error}") from None
    return text


def _paths(paths: list[WeightedPath]) -> tuple[WeightedPath, ...]:
    names = [p.path for p in paths]
    if len(names) > MAX_PATHS:
        raise BadRequestSpec(f"at most {MAX_PATHS} paths (each is a label), got {len(names)}")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise BadRequestSpec(f"path {repeated[0]} is given twice: give it once, with a weight")
    return tuple(paths)


def _file_path(item: object) -> WeightedPath:
    if isinstance(item, str):
        return weighted_path(item)
    if isinstance(item, dict) and set(item) <= {"path", "weight"} and "path" in item:
        weight = item.get("weight", 1)
        if not isinstance(weight, int) or isinstance(weight, bool) or weight < 1:
            raise BadRequestSpec(f"must have a weight of 1 or more, got {weight!r}")
        # `=1` ends the text, so a path's own `=digits` is never read as its weight.
        return replace(weighted_path(f"{item['path']}=1"), weight=weight)
    raise BadRequestSpec(f"must each be a string or {{path, weight}}, got {item!r}")


def _file_paths(value: object) -> list[WeightedPath]:
    if not isinstance(value, list):
        raise TypeError("a list of paths")
    return [_file_path(item) for item in value]


def _file_headers(table: dict) -> dict[str, str]:
    """A table of names to values. YAML reads `yes`, `on` or an empty value as a bool or
    null, which would be sent as `True` or `None`: those must be quoted."""
    headers = {}
    for name, value in table.items():
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise BadRequestSpec(f"{name} must be text, got {value!r}: quote it")
        headers.update([header(f"{name}: {value}")])
    return headers


def _text(parse):
    """A parser of text that refuses anything else (a number, a null) rather than guess."""

    def parse_text(value: object):
        if not isinstance(value, str):
            raise TypeError("text")
        return parse(value)

    return parse_text


# A scenario file's keys, each with the parser of its value (the flags' own where they match).
FILE_KEYS = {
    "paths": _file_paths,
    "method": _text(method),
    "headers": _file_headers,
    "expect_status": status,
    "expect_body": _text(body_pattern),
}


def read_file(path: Path) -> dict:
    """A scenario file's settings (TOML or YAML, by its suffix), as keyword arguments of
    `build`."""
    try:
        data = scenario_file.load(path)
    except scenario_file.UnreadableScenarioFile as error:
        raise BadRequestSpec(f"--scenario-file: {error}") from None
    unknown = [key for key in data if key not in FILE_KEYS]
    if unknown:
        raise BadRequestSpec(
            f"--scenario-file: unknown key {unknown[0]!r} in {path} (known: {', '.join(FILE_KEYS)})"
        )
    settings = {}
    for key, value in data.items():
        try:
            settings[key] = FILE_KEYS[key](value)
        except BadRequestSpec as error:
            raise BadRequestSpec(f"--scenario-file {path}: {key} {error}") from None
        except (AttributeError, TypeError):
            kind = "empty" if value is None else f"a {type(value).__name__}"
            raise BadRequestSpec(f"--scenario-file {path}: {key} cannot be {kind}") from None
    return settings


def build(
    scenario_file: Path | None = None,
    paths: list[WeightedPath] | None = None,
    method: str | None = None,
    headers: list[tuple[str, str]] | None = None,
    expect_status: int | None = None,
    expect_body: str | None = None,
) -> UserRequests:
    """The seed's page unless anything is given; then the file's settings, each replaced by
    the flag given on the command line (headers: the file's and the flags', a flag's winning)."""
    given = read_file(scenario_file) if scenario_file else {}
    flags = {
        "paths": paths,
        "method": method,
        "expect_status": expect_status,
        "expect_body": expect_body,
    }
    given |= {key: value for key, value in flags.items() if value}
    given["headers"] = given.get("headers", {}) | dict(headers or [])
    if not any(given.values()):
        return UserRequests()
    # The user's own app: any body, unless they say what a good one holds.
    spec = UserRequests(expect_body=None)
    return replace(
        spec,
        paths=_paths(given.get("paths") or list(spec.paths)),
        method=given.get("method") or spec.method,
        headers=given["headers"],
        expect_status=given.get("expect_status") or spec.expect_status,
        expect_body=given.get("expect_body") or None,
    )
