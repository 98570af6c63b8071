"""The one stderr reporter: every note, warning and error line the commands print, with
one prefix (stdout carries only the report, the adverts or the JSON lines)."""

from __future__ import annotations

import sys

PREFIX = "vrrpscope: "


def say(message: str) -> None:
    """One line on stderr: ``vrrpscope: message``."""
    print(PREFIX + message, file=sys.stderr)
