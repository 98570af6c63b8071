"""`vrrpscope decode`: one line (or JSON object) per VRRP/CARP advert."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator, Sequence

from vrrpscope.columnar.records import is_plain_file
from vrrpscope.errors import EXIT_DAMAGED, EXIT_OK, Damage
from vrrpscope.filters import Selection, ViewFilter, view_from
from vrrpscope.model import Advert
from vrrpscope.pipeline import DecodeSession
from vrrpscope.proto.decode import Decoded, DecodeStats
from vrrpscope.report.adverts import advert_to_dict, format_advert
from vrrpscope.report.jsonl import json_line
from vrrpscope.report.stderr import say


class _Run:
    """The decode of `paths`: the columnar fast route (the one `analyze` takes: one
    general decode per distinct frame, the same items in the same order) for regular
    files, the general decoder frame by frame for stdin and pipes (adverts print as they
    arrive) or with ``VRRPSCOPE_GENERAL=1``."""

    def __init__(self, paths: Sequence[str]) -> None:
        general = os.environ.get("VRRPSCOPE_GENERAL", "") not in ("", "0")
        self.fast = None
        self.general = None
        if general or not all(map(is_plain_file, paths)):
            self.general = DecodeSession(paths)  # opens every input: bad ones fail first
        else:
            from vrrpscope.columnar.feed import FeedDecoder
            from vrrpscope.compiled import say_if_not_built

            say_if_not_built()
            self.fast = FeedDecoder(list(paths))
        self.paths = paths
        self.selection: Selection | None = None

    def select(self, view: ViewFilter | None) -> None:
        """Only the adverts ``view`` selects (both routes: vrrpscope.filters)."""
        if view is None:
            return
        self.selection = Selection.prepare(view, self.paths)
        self.selection.start_of = lambda: self.stats.first_ts_ns
        if self.fast is not None:
            self.fast.decoder.selection = self.selection

    def items(self) -> Iterator[Decoded]:
        if self.general is None:
            return self.fast.items()  # (filtered in its decoder)
        if self.selection is not None:
            return filter(self.selection.keep, self.general.items())
        return self.general.items()

    @property
    def stats(self) -> DecodeStats:
        return self.general.decoder.stats if self.general is not None else self.fast.stats

    @property
    def damage(self) -> list[Damage]:
        return self.general.damage if self.general is not None else list(self.fast.damage)

    def notes(self) -> list[str]:
        if self.general is not None:
            return self.general.notes()
        from vrrpscope.pipeline import decode_notes

        return decode_notes(self.fast.stats)


def run_decode(args: argparse.Namespace) -> int:
    if args.crosscheck:
        from vrrpscope.proto.crosscheck import run_crosscheck

        return run_crosscheck(args)
    run = _Run(args.files)
    run.select(view_from(args))
    multi = len(args.files) > 1
    out = sys.stdout
    interactive = any(path == "-" for path in args.files)
    for item in run.items():
        if not isinstance(item, Advert):
            continue
        if args.json:
            line = json_line(advert_to_dict(item, args.show_secrets))
        else:
            line = format_advert(item, args.show_secrets, args.local)
            if multi:
                line = f"{item.source}: {line}"
        out.write(line + "\n")
        if interactive:
            out.flush()
    out.flush()
    for note in run.notes():
        say(f"note: {note}")
    for damage in run.damage:
        say(f"damaged input: {damage}; {damage.outcome('decoded')}")
    stats = run.stats
    selection = run.selection
    if selection is not None and not selection.kept:
        say(f"note: {selection.nothing_matched()}")
    if not args.json:
        shown = f"{selection.kept} of " if selection is not None else ""
        say(f"{shown}{stats.adverts} advert(s) in {stats.frames} frame(s)")
    return EXIT_DAMAGED if run.damage else EXIT_OK
