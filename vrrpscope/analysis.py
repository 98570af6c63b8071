"""Run captures through the decoder and the engine: what `analyze` and the API share."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from vrrpscope.columnar import AdvertTable
from vrrpscope.decode import DecodeStats
from vrrpscope.engine import Engine
from vrrpscope.errors import Damage
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
    on_progress: Callable[[DecodeRun], None] | None = None,
) -> Analysis:
    """Decode `paths` (merged in time order) and feed the engine; never raises on damage."""
    run = DecodeRun(list(paths))
    engine = Engine(thresholds or Thresholds(), on_event=on_event)
    kept: list[Advert] = []
    first = last = None
    backwards = 0
    for count, item in enumerate(run.items(), 1):
        ts = item.ts_ns
        if first is None:
            first = last = ts
        elif ts < last:
            backwards += 1
            first = min(first, ts)
        else:
            last = ts
        if isinstance(item, Advert):
            engine.feed(item)
            if keep_adverts:
                kept.append(item)
        elif isinstance(item, OtherTraffic):
            engine.feed_other(item)
        elif isinstance(item, AddressClaim):
            engine.feed_claim(item)
        if on_progress is not None and count % 50_000 == 0:
            on_progress(run)
    engine.finish(last)
    return Analysis(
        files=list(paths),
        stats=run.decoder.stats,
        engine=engine,
        damage=run.damage,
        notes=run.notes(),
        first_ts_ns=first,
        last_ts_ns=last,
        backwards_ts=backwards,
        adverts=AdvertTable.from_adverts(kept) if keep_adverts else None,
    )
