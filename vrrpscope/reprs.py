"""Short, masked reprs (and HTML views) of the objects the API hands out.

The default dataclass repr of a speaker prints its VRRPv2 password (``auth_data``) and
of a router or an analysis kilobytes of engine state. These give one line naming what
the object is, its counts and where to look next; authentication data only ever as
:data:`vrrpscope.secrets.MASK`. Classes bind them as ``__repr__ = reprs.router`` (no
import of those classes here: duck typing keeps this module free of cycles).
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import Any

from vrrpscope.secrets import MASK

HTML_ROWS = 50  # rows shown in an HTML table before "... n more"
LIST_ITEMS = 8  # items named in a list's repr before "+n more"
MESSAGE_CHARS = 90  # of a finding's message in its repr


def plural(n: int, word: str, many: str | None = None) -> str:
    """'1 virtual router', '2 virtual routers' (and '1,234 adverts')."""
    return f"{n:,} {word if n == 1 else many or word + 's'}"


def names(items: Sequence[str], limit: int = LIST_ITEMS) -> str:
    """'a, b, c' with '+n more' past `limit` items."""
    shown = ", ".join(items[:limit])
    return shown + (f", +{len(items) - limit} more" if len(items) > limit else "")


def _auth(auth_type: int | None, data: bytes | None) -> str:
    if auth_type is None:
        return ""
    from vrrpscope.model import AUTH_NAMES

    name = AUTH_NAMES.get(auth_type, str(auth_type))
    return f", auth {name}" + (f" {MASK}" if data and data.strip(b"\0") else "")


def speaker(sp: Any) -> str:
    """<SpeakerState 198.18.1.1 00:00:5e:00:01:33 v2 prio 100, 10 adverts, auth simple ***>"""
    rank = (
        f"advskew {sp.advskew}"
        if sp.advskew is not None
        else f"prio {'?' if sp.priority is None else sp.priority}"
    )
    version = f" v{sp.version}" if sp.version is not None else ""
    return (
        f"<SpeakerState {sp.src} {sp.mac or 'MAC ?'}{version} {rank}, "
        f"{plural(sp.adverts, 'advert')} ({sp.invalid:,} invalid)"
        f"{_auth(sp.auth_type, sp.auth_data)}>"
    )


def router(r: Any) -> str:
    """<RouterState VRRP VRID 51 (IPv4) on eth0: 2 speakers, master ..., 1 failover>"""
    masters = [sp.src for sp in r.current_masters]
    return (
        f"<RouterState {r.label}: {plural(len(r.speakers), 'speaker')} "
        f"({names([sp.src for sp in r.speakers.values()], 4)}), "
        f"master now {', '.join(masters) or 'none'}, {plural(r.adverts, 'advert')}, "
        f"{plural(r.failovers, 'failover')}>"
    )


def router_html(r: Any) -> str:
    """One row per speaker of the router."""
    rows = [
        [
            html.escape(sp.src),
            html.escape(sp.mac or "?"),
            str(sp.advskew if sp.advskew is not None else sp.priority),
            f"{sp.adverts:,}",
            "MASTER" if sp in r.current_masters else "",
            html.escape(_auth(sp.auth_type, sp.auth_data).removeprefix(", auth ")),
        ]
        for sp in r.speakers.values()
    ]
    head = ["speaker", "MAC", "advskew" if r.proto == "carp" else "priority"]
    return table(r.label, [*head, "adverts", "state", "auth"], rows)


def finding(f: Any) -> str:
    """<Finding critical split-brain VRID 51 on eth0: message...>"""
    where = f.segment or "-"
    if f.vrid is not None:
        where = f"VRID {f.vrid} IPv{f.family} on {where}"
    message = f.message if len(f.message) <= MESSAGE_CHARS else f.message[: MESSAGE_CHARS - 1] + "…"
    return f"<Finding {f.severity} {f.kind} {where}: {message}>"


def advert(a: Any) -> str:
    """<Advert frame 7 VRRPv2 VRID 51 198.18.1.1 prio 100, auth simple ********>"""
    rank = f"advskew {a.advskew}" if a.proto == "carp" else f"prio {a.priority}"
    issues = f" [{', '.join(a.issues)}]" if a.issues else ""
    return (
        f"<Advert frame {a.frame} {a.proto.upper()}v{a.version} {a.vrid} on {a.segment} "
        f"{a.src} > {a.dst} {rank}{_auth(a.auth_type, a.auth_data)}{issues}>"
    )


def speaker_summary(s: Any) -> str:
    rank = f"advskew {s.advskew}" if s.advskew is not None else f"prio {s.priority}"
    auth = f", auth {s.auth}" + (f" {s.auth_masked}" if s.auth_masked else "") if s.auth else ""
    master = ", MASTER" if s.master_now else ""
    counts = plural(s.adverts, "advert")
    return f"<SpeakerSummary {s.src} {s.mac or 'MAC ?'} {rank}, {counts}{master}{auth}>"


def router_summary(r: Any) -> str:
    word = "vhid" if r.proto == "carp" else "VRID"
    return (
        f"<RouterSummary {r.proto.upper()} {word} {r.vrid} (IPv{r.family}) on {r.segment}: "
        f"{plural(len(r.speakers), 'speaker')}, masters {', '.join(r.masters) or 'none'}, "
        f"{plural(r.adverts, 'advert')}>"
    )


def segment(s: Any) -> str:
    from vrrpscope.engine.inventory import format_ranges

    used = "; ".join(f"{k} {format_ranges(v)}" for k, v in s.vrids_in_use.items()) or "none"
    return (
        f"<SegmentInventory {s.segment}: VRIDs in use {used}, "
        f"{plural(len(s.routers), 'virtual router')}, {plural(s.speakers, 'speaker')}>"
    )


def segment_html(s: Any) -> str:
    from vrrpscope.engine.inventory import format_ranges

    rows = [
        [
            html.escape(f"{r.proto.upper()} {r.vrid} IPv{r.family}"),
            html.escape(", ".join(r.addresses)),
            html.escape(", ".join(sp.src for sp in r.speakers)),
            html.escape(", ".join(r.masters) or "none"),
            f"{r.adverts:,}",
        ]
        for r in s.routers
    ]
    free = "; ".join(f"IPv{fam}: {format_ranges(v)}" for fam, v in s.free_vrids.items())
    caption = f"segment {s.segment} (free VRIDs {free})"
    return table(caption, ["router", "VIPs", "speakers", "masters", "adverts"], rows)


def advert_table(t: Any) -> str:
    return (
        f"<AdvertTable: {plural(len(t), 'advert')} from {plural(len(t.sources), 'source')} "
        f"on {plural(len(t.segments), 'segment')}; .to_pandas() for the rows>"
    )


def analysis(a: Any) -> str:
    files = names([str(f) for f in a.files], 3)
    return (
        f"<Analysis {files}: {plural(a.stats.frames, 'frame')}, "
        f"{plural(a.stats.adverts, 'advert')}, {plural(len(a.routers), 'virtual router')}, "
        f"{plural(len(a.findings), 'finding')}>"
    )


def table(caption: str, head: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A small HTML table; cells are already escaped by the caller."""
    rows = list(rows)
    shown = rows[:HTML_ROWS]
    out = [
        '<table style="font-size:85%;text-align:left">',
        f'<caption style="text-align:left"><b>{html.escape(caption)}</b></caption>',
        "<tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head) + "</tr>",
    ]
    for row in shown:
        out.append("<tr>" + "".join(f'<td style="text-align:left">{c}</td>' for c in row) + "</tr>")
    if len(rows) > len(shown):
        out.append(f'<tr><td colspan="{len(head)}">… {len(rows) - len(shown)} more</td></tr>')
    out.append("</table>")
    return "\n".join(out)
