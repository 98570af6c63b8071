"""`vrrpscope decode`: one line (or JSON object) per VRRP/CARP advert."""

from __future__ import annotations

import argparse
import json
import sys

from vrrpscope.errors import EXIT_DAMAGED, EXIT_OK
from vrrpscope.model import Advert
from vrrpscope.pipeline import DecodeRun
from vrrpscope.report.adverts import advert_to_dict, format_advert


def run_decode(args: argparse.Namespace) -> int:
    if args.crosscheck:
        from vrrpscope.crosscheck import run_crosscheck

        return run_crosscheck(args)
    run = DecodeRun(args.files)
    multi = len(args.files) > 1
    out = sys.stdout
    interactive = any(path == "-" for path in args.files)
    for item in run.items():
        if not isinstance(item, Advert):
            continue
        if args.json:
            line = json.dumps(advert_to_dict(item, args.show_secrets), separators=(",", ":"))
        else:
            line = format_advert(item, args.show_secrets, args.local)
            if multi:
                line = f"{item.source}: {line}"
        out.write(line + "\n")
        if interactive:
            out.flush()
    out.flush()
    for note in run.notes():
        print(f"vrrpscope: note: {note}", file=sys.stderr)
    for damage in run.damage:
        print(
            f"vrrpscope: damaged input: {damage}; frames before it were decoded",
            file=sys.stderr,
        )
    stats = run.decoder.stats
    if not args.json:
        print(
            f"vrrpscope: {stats.adverts} advert(s) in {stats.frames} frame(s)",
            file=sys.stderr,
        )
    return EXIT_DAMAGED if run.damage else EXIT_OK
