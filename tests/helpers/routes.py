"""The fast route against the general route: run both, compare everything they end with."""

from __future__ import annotations

import dataclasses
import io
from collections import deque
from typing import Any

import numpy as np

from vrrpscope.analysis import Analysis, analyze_files
from vrrpscope.columnar.feed import FeedDecoder
from vrrpscope.pipeline import DecodeSession
from vrrpscope.report.jsonl import write_json


def deep_state(obj: Any, _path: frozenset[int] = frozenset()) -> Any:
    """The whole state below ``obj`` as plain values: every dataclass field a default
    dataclass repr would show (the public reprs are short and masked on purpose), dict
    entries in order, sequences, arrays; a cycle reads as ``<cycle>``."""
    if id(obj) in _path:
        return "<cycle>"
    path = _path | {id(obj)}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return (
            type(obj).__name__,
            tuple(
                (f.name, deep_state(getattr(obj, f.name), path))
                for f in dataclasses.fields(obj)
                if f.repr
            ),
        )
    if isinstance(obj, dict):
        return [(deep_state(k, path), deep_state(v, path)) for k, v in obj.items()]
    if isinstance(obj, list | tuple | deque):
        return [deep_state(v, path) for v in obj]
    if isinstance(obj, set | frozenset):
        return sorted(repr(deep_state(v, path)) for v in obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, bytes | bytearray):  # secrets too (their repr is masked)
        return bytes(obj).hex()
    if isinstance(obj, str):
        return ("str", str.__str__(obj))  # a SecretText's str is masked
    return repr(obj)


def _json(analysis: Analysis) -> str:
    out = io.StringIO()
    write_json(analysis, out)
    return out.getvalue()


def _run(
    paths: list[str], general: bool, **options: Any
) -> tuple[Analysis | None, list, BaseException | None]:
    events: list = []
    try:
        analysis = analyze_files(
            paths,
            keep_adverts=True,
            general=general,
            **options,
            on_event=lambda e: events.append((e.action, e.finding.to_dict())),
        )
    except Exception as exc:  # e.g. timestamps past 2262 overflow the adverts table
        return None, events, exc
    return analysis, events, None


def _state(analysis: Analysis) -> tuple:
    """Everything the engine ends with: output, findings, inventory, the state model."""
    return (
        _json(analysis),
        [f.to_dict() for f in analysis.findings],
        [i.to_dict() for i in analysis.inventory],
        deep_state(analysis.routers),
        list(analysis.routers),
        analysis.engine.stats,
        analysis.stats,
        analysis.notes,
        analysis.damage,
    )


def assert_same(paths: list[str], **options: Any) -> Analysis | None:
    """Both routes end alike on ``paths`` (``options`` for analyze_files, e.g. ``view``)."""
    # Without the adverts table (what `analyze --json` does): never raises on odd input.
    # On the fast route that takes regular adverts in bulk (vrrpscope.engine.bulk.planner).
    plain = [analyze_files(paths, general=general, **options) for general in (True, False)]
    assert _state(plain[1]) == _state(plain[0])
    assert list(FeedDecoder(paths).items()) == list(DecodeSession(paths).items())
    slow, slow_events, slow_exc = _run(paths, True, **options)
    fast, fast_events, fast_exc = _run(paths, False, **options)
    if slow_exc is not None or fast_exc is not None:
        assert type(fast_exc) is type(slow_exc), (slow_exc, fast_exc)
        return None
    assert slow is not None and fast is not None
    assert _json(fast) == _json(slow)
    assert fast_events == slow_events
    assert fast.stats == slow.stats
    assert fast.engine.stats == slow.engine.stats
    assert fast.damage == slow.damage
    assert fast.notes == slow.notes
    assert (fast.first_ts_ns, fast.last_ts_ns, fast.backwards_ts) == (
        slow.first_ts_ns,
        slow.last_ts_ns,
        slow.backwards_ts,
    )
    assert [f.to_dict() for f in fast.findings] == [f.to_dict() for f in slow.findings]
    assert [i.to_dict() for i in fast.inventory] == [i.to_dict() for i in slow.inventory]
    # The whole state model: routers, speakers, gap statistics, master timelines.
    assert deep_state(fast.routers) == deep_state(slow.routers)
    assert fast.adverts is not None and slow.adverts is not None
    assert np.array_equal(fast.adverts.rows, slow.adverts.rows)
    return fast
