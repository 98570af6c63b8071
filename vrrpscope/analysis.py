"""Run captures through the decoder and the engine: what `analyze` and the API share.

Two routes give the same items in the same order (tests/test_fastfeed.py): the fast one
(:class:`vrrpscope.fastfeed.FeedRun`: columnar decode, one general decode per distinct
frame) is taken by default; ``general=True`` or ``VRRPSCOPE_GENERAL=1`` in the
environment forces the general one (:class:`DecodeRun`: every frame decoded alone).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from vrrpscope.columnar import AdvertTable
from vrrpscope.decode import DecodeStats
from vrrpscope.engine import Engine
from vrrpscope.errors import Damage
from vrrpscope.fastfeed import FeedRun
from vrrpscope.findings import Finding, FindingEvent
from vrrpscope.model import AddressClaim, Advert, OtherTraffic
from vrrpscope.pipeline import DecodeRun
from vrrpscope.thresholds import Thresholds


@dataclass
class Analysis:
    """The result of analysing one or more captures."""

    files: list[str]
    stats: DecodeStats
    engine: Engine
    damage: list[Damage] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    first_ts_ns: int | None = None
    last_ts_ns: int | None = None
    backwards_ts: int = 0
    adverts: AdvertTable | None = None

    @property
    def findings(self) -> list[Finding]:
        return self.engine.findings

    @property
    def routers(self):
        return self.engine.routers

    @property
    def inventory(self):
        return self.engine.inventory()


def analyze_files(
    paths: Sequence[str],
    thresholds: Thresholds | None = None,
    *,
    keep_adverts: bool = False,
    on_event: Callable[[FindingEvent], None] | None = None,
    on_progress: Callable[[DecodeRun | FeedRun], None] | None = None,
    general: bool | None = None,
) -> Analysis:
    """Decode `paths` (merged in time order) and feed the engine; never raises on damage.

    ``general``: force the general per-frame route (True) or the fast one (False); by
    default the fast one unless ``VRRPSCOPE_GENERAL`` is set to a non-empty value other
    than ``0``. Both give the same findings, inventory, counts and notes.
    """
    if general is None:
        general = os.environ.get("VRRPSCOPE_GENERAL", "") not in ("", "0")
    run: DecodeRun | FeedRun = DecodeRun(list(paths)) if general else FeedRun(list(paths))
    engine = Engine(thresholds or Thresholds(), on_event=on_event)
    kept: list[Advert] = []
    duplicates = CrossFileDuplicates() if len(paths) > 1 else None
    for count, item in enumerate(run.items(), 1):
        if isinstance(item, Advert):
            if duplicates is not None and duplicates.seen(item):
                continue
            engine.feed(item)
            if keep_adverts:
                kept.append(item)
        elif isinstance(item, OtherTraffic):
            engine.feed_other(item)
        elif isinstance(item, AddressClaim):
            engine.feed_claim(item)
        if on_progress is not None and count % 50_000 == 0:
            on_progress(run)
    if isinstance(run, FeedRun):
        stats = run.stats
        damage = run.damage
        notes = _StatsNotes(stats).notes()
    else:
        stats = run.decoder.stats
        damage = run.damage
        notes = run.notes()
    # The capture lasts until its last frame of any kind, not its last advert: silence
    # at the end of a capture filtered with `vrrp or arp` is still silence.
    engine.finish(stats.last_ts_ns)
    if duplicates is not None and duplicates.dropped:
        notes.append(
            f"{duplicates.dropped} advert(s) seen in two files at once (the same segment "
            "captured twice) were counted once"
        )
    return Analysis(
        files=list(paths),
        stats=stats,
        engine=engine,
        damage=damage,
        notes=notes,
        first_ts_ns=stats.first_ts_ns,
        last_ts_ns=stats.last_ts_ns,
        backwards_ts=stats.backwards_ts,
        adverts=AdvertTable.from_adverts(kept) if keep_adverts else None,
    )


class CrossFileDuplicates:
    """Adverts captured twice, in two files of one segment (e.g. on both nodes).

    The same advert arrives in each file within a fraction of its interval; counting it
    twice would halve every gap and invent interval drift. Only adverts from different
    files are compared, so a real burst from one speaker is kept.
    """

    WINDOW = 0.1  # of the advert interval

    def __init__(self) -> None:
        self.dropped = 0
        self._last: dict[tuple, tuple[str, int, tuple]] = {}  # one entry per speaker

    def seen(self, advert: Advert) -> bool:
        key = (advert.segment, advert.family, advert.proto, advert.vrid, advert.src)
        content = (advert.src_mac, advert.priority, advert.checksum, advert.counter)
        previous = self._last.get(key)
        if previous is not None and previous[0] != advert.source and previous[2] == content:
            window = self.WINDOW * max(advert.interval_cs, 1) * 10_000_000
            if abs(advert.ts_ns - previous[1]) <= window:
                self.dropped += 1
                return True
        self._last[key] = (advert.source, advert.ts_ns, content)
        return False


class _StatsNotes:
    """:meth:`DecodeRun.notes` for counts that came from another route."""

    def __init__(self, stats: DecodeStats) -> None:
        self.decoder = self  # DecodeRun.notes reads self.decoder.stats
        self.stats = stats

    def notes(self) -> list[str]:
        return DecodeRun.notes(self)  # type: ignore[arg-type]
