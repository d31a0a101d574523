"""Read the app's settings from the environment, Heroku style, with one-line errors.

Every reader names the variable it reads, so a malformed value stops start-up with a
message such as ``WAITRESS_THREADS must be an integer from 1 to 1000, got 'abc'``.
"""

import argparse
import os

import dj_database_url


class SettingError(Exception):
    """A setting in the environment is malformed; the message names it."""


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_int(name: str, default: int, minimum: int, maximum: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or not minimum <= value <= maximum:
        raise SettingError(f"{name} must be an integer from {minimum} to {maximum}, got {raw!r}")
    return value


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise SettingError(f"{name} must be one of on/off, true/false, 1/0, got {raw!r}")


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def database_from_url(url: str, conn_max_age: int) -> dict:
    """Parse DATABASE_URL; only PostgreSQL is supported (the app's queries are PostgreSQL's)."""
    try:
        config = dj_database_url.parse(url, conn_max_age=conn_max_age, conn_health_checks=True)
    except Exception as error:  # dj-database-url raises bare ValueError/KeyError variants
        raise SettingError(f"DATABASE_URL is not a database URL ({error})") from None
    if config.get("ENGINE") != "django.db.backends.postgresql":
        raise SettingError("DATABASE_URL must be a postgres:// or postgresql:// URL")
    if not config.get("NAME"):
        raise SettingError("DATABASE_URL must name a database (postgres://user@host/NAME)")
    return config


class OneLineParser(argparse.ArgumentParser):
    """Bad command-line arguments get one line and exit status 2, not argparse's usage block."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message}\n")


def int_from(minimum: int, maximum: int):
    """An argparse type for a whole number in [minimum, maximum]. A port needs it: Waitress
    takes 70000 and listens on 70000 % 65536 = 4464 without a word."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or not minimum <= value <= maximum:
            raise argparse.ArgumentTypeError(
                f"must be a whole number from {minimum} to {maximum}, got {text!r}"
            )
        return value

    return parse


# 0: any free port (the server logs the one it got).
port_number = int_from(0, 65535)
