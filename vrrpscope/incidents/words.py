"""How incidents are told: VRID lists, node lists and durations in one line."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

# A VRID list longer than this is cut with a count of the rest ("1-5,7,9 +12 more").
MAX_PARTS = 8


def id_list(ids: Iterable[int]) -> str:
    """VRIDs as an operator writes them: '3', '1-10', '2,4,...,20', '1-3,7,12'."""
    ids = sorted(set(ids))
    if not ids:
        return ""
    if len(ids) >= 4:
        step = ids[1] - ids[0]
        if step > 1 and all(b - a == step for a, b in zip(ids, ids[1:], strict=False)):
            return f"{ids[0]},{ids[1]},...,{ids[-1]}"
    parts: list[str] = []
    start = prev = ids[0]
    for n in [*ids[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if n is not None:
            start = prev = n
    if len(parts) > MAX_PARTS:
        rest = sum(_count(p) for p in parts[MAX_PARTS:])
        return ",".join(parts[:MAX_PARTS]) + f" +{rest} more"
    return ",".join(parts)


def _count(part: str) -> int:
    if "-" not in part:
        return 1
    a, b = part.split("-")
    return int(b) - int(a) + 1


def ids_phrase(ids: Sequence[int], carp: bool) -> str:
    """'VRID 51' / 'VRIDs 2,4,...,20' (VHIDs for CARP)."""
    word = "VHID" if carp else "VRID"
    return f"{word}{'s' if len(set(ids)) > 1 else ''} {id_list(ids)}"


def names(nodes: Iterable[str], limit: int = 4) -> str:
    """'a', 'a and b', 'a, b and c', 'a, b, c and 5 more'."""
    nodes = list(dict.fromkeys(nodes))
    if len(nodes) > limit:
        return ", ".join(nodes[: limit - 1]) + f" and {len(nodes) - limit + 1} more"
    if len(nodes) <= 1:
        return "".join(nodes)
    return ", ".join(nodes[:-1]) + f" and {nodes[-1]}"


def span(low: float, high: float) -> str:
    """'0.61 s' or '0.61-0.62 s' (seconds)."""
    if round(low, 2) == round(high, 2):
        return f"{low:.2f} s"
    return f"{low:.2f}-{high:.2f} s"


def duration(seconds: float) -> str:
    """'0.05 s', '12.3 s', '4 min 10 s', '2 h 05 min'."""
    if seconds < 10:
        return f"{seconds:.2f} s"
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min {int(seconds % 60):02d} s"
    return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60):02d} min"


def count(n: int, thing: str) -> str:
    """'1 node', '3 nodes'."""
    return f"{n:,} {thing}" + ("" if n == 1 else "s")
