"""keepalived.conf's instance names and VRIDs (``--config``), for logs that name only
the instance."""

from __future__ import annotations

import re
from pathlib import Path

from vrrpscope.errors import InputError

_TOKEN = re.compile(r'"[^"]*"|[{}]|[^\s{}"]+')


def instance_vrids(path: str) -> dict[str, int]:
    """``vrrp_instance NAME { ... virtual_router_id N ... }`` -> {NAME: N}; comments
    (``#``, ``!``) skipped; includes are not followed."""
    try:
        text = Path(path).read_text("utf-8", "replace")
    except FileNotFoundError:
        raise InputError(path, "no such keepalived configuration file") from None
    except OSError as exc:
        raise InputError(path, f"cannot read: {exc.strerror or exc}") from None
    tokens: list[str] = []
    for line in text.splitlines():
        line = re.split(r"[#!]", line, maxsplit=1)[0]
        tokens += [t.strip('"') for t in _TOKEN.findall(line)]
    out: dict[str, int] = {}
    depth, current, current_depth = 0, None, 0
    for i, tok in enumerate(tokens):
        if tok == "{":
            depth += 1
        elif tok == "}":
            depth -= 1
            if current is not None and depth < current_depth:
                current = None
        elif tok == "vrrp_instance" and i + 2 < len(tokens) and tokens[i + 2] == "{":
            current, current_depth = tokens[i + 1], depth + 1
        elif tok == "virtual_router_id" and current is not None and i + 1 < len(tokens):
            value = tokens[i + 1]
            out.update({current: int(value)} if value.isdigit() and 1 <= int(value) <= 255 else {})
    return out
