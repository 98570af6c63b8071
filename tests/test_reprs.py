"""Reprs of everything `vrrpscope.analyze()` hands out: short, and never a secret."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

import vrrpscope
from tests.helpers.secrets import SECRETS, secret_capture, spellings
from vrrpscope.errors import UsageError

MAX_REPR = 400  # characters: a repr is a line to read, not a dump


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> vrrpscope.api.Result:
    path = tmp_path_factory.mktemp("reprs") / "secrets.pcap"
    path.write_bytes(secret_capture())
    return vrrpscope.analyze(str(path))


def _children(obj: object) -> Iterator[object]:
    if isinstance(obj, dict):
        yield from obj.keys()
        yield from obj.values()
    elif isinstance(obj, list | tuple | set | frozenset):
        yield from obj
    elif dataclasses.is_dataclass(obj):
        for f in dataclasses.fields(obj):
            yield getattr(obj, f.name)
    elif hasattr(obj, "__dict__"):
        yield from vars(obj).values()


def reachable(root: object, limit: int = 20_000) -> list[object]:
    """Every vrrpscope object (and container of them) reachable from `root` through
    attributes, dataclass fields and container items, engine internals included."""
    seen: dict[int, object] = {}
    todo = [root]
    while todo and len(seen) < limit:
        obj = todo.pop()
        if id(obj) in seen or isinstance(obj, str | bytes | int | float | bool | type(None)):
            continue
        module = type(obj).__module__
        if not (module.startswith("vrrpscope") or module == "builtins"):
            continue
        seen[id(obj)] = obj
        todo.extend(_children(obj))
    return list(seen.values())


def public_objects(result: vrrpscope.api.Result) -> list[object]:
    """What a notebook user meets: the result, its lists and each item in them."""
    objs: list[object] = [result, result.analysis, result.routers, result.findings]
    objs += [result.inventory, result.adverts, result.analysis.stats]
    for r in result.routers:
        objs += [r, *r.speakers.values(), *r.timeline()]
    objs += list(result.findings)
    for seg in result.inventory:
        objs.append(seg)
        for rs in seg.routers:
            objs += [rs, *rs.speakers]
    return objs


def renderings(obj: object) -> dict[str, str]:
    out = {"repr": repr(obj), "str": str(obj)}
    if hasattr(obj, "_repr_html_"):
        out["html"] = obj._repr_html_()
    return out


def test_no_repr_str_or_html_of_anything_reachable_shows_a_secret(result) -> None:
    objs = reachable(result)
    assert len(objs) > 50  # the walk went into the engine's routers and speakers
    leaks = []
    for obj in objs:
        for how, text in renderings(obj).items():
            blob = text.encode()
            for name, secret in SECRETS.items():
                if any(form in blob for form in spellings(secret)):
                    leaks.append(f"{how}({type(obj).__name__}) shows {name}: {text[:120]}")
    assert leaks == []


def test_public_objects_have_short_reprs_that_say_what_they_are(result) -> None:
    for obj in public_objects(result):
        text = repr(obj)
        assert len(text) <= MAX_REPR, text[:600]
        assert "\n" not in text, text
    password_speaker = result.routers.get(vrid=1).speakers
    (sp,) = password_speaker.values()
    assert repr(sp) == (
        "<SpeakerState 198.18.1.11 00:00:5e:00:01:33 v2 prio 100, 10 adverts (0 invalid), "
        "auth simple ********>"
    )
    assert repr(result.routers).startswith("<RouterList 5 virtual routers: VRRP VRID 1 (IPv4)")
    assert "1 speaker (198.18.1.11)" in repr(result.routers.get(vrid=1))
    assert repr(result.adverts) == (
        "<AdvertTable: 50 adverts from 5 sources on 1 segment; .to_pandas() for the rows>"
    )


def test_html_views_are_tables(result) -> None:
    for obj in (result, result.routers, result.findings, result.inventory):
        assert "<table" in obj._repr_html_()
    router_html = result.routers.get(vrid=1)._repr_html_()
    assert "198.18.1.11" in router_html and "simple ********" in router_html


def test_nothing_matched_lists_what_exists(result) -> None:
    with pytest.raises(UsageError) as exc:
        result.plot(vrid=99)
    text = str(exc.value)
    assert "no virtual router matches vrid=99" in text
    assert "VRRP VRID 1 (IPv4) on default" in text and "narrow" not in text
    with pytest.raises(UsageError, match="5 virtual routers match segment='default'.*narrow"):
        result.routers.get(segment="default")


def test_readme_notebook_line_repr_is_short() -> None:
    root = Path(__file__).parents[1]
    result = vrrpscope.analyze(str(root / "captures" / "split-brain.pcap"))
    assert len(repr(result.routers.get(vrid=51))) <= MAX_REPR
    assert "auth_data" not in repr(result.routers.get(vrid=51))
