#!/usr/bin/env python
"""Django's command-line utility, with settings errors reported in one line."""

import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "app.settings")
    from django.core.management import execute_from_command_line

    from app.config import SettingError

    try:
        execute_from_command_line(sys.argv)
    except SettingError as error:
        sys.exit(f"error: {error}")


if __name__ == "__main__":
    main()
