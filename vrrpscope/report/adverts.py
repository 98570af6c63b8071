"""One advert as a tcpdump-style line or as a JSON object (the `decode` command)."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache

from vrrpscope.model import (
    ISSUE_CHECKSUM,
    ISSUE_IP_CHECKSUM,
    ISSUE_LENGTH,
    ISSUE_TEXT,
    ISSUE_TTL,
    ISSUE_TYPE,
    ISSUE_VERSION,
    Advert,
)
from vrrpscope.proto.decode import DEFAULT_SEGMENT
from vrrpscope.secrets import mask_secret


def format_time(ts_ns: int, local: bool = False) -> str:
    """'2014-03-05 21:55:06.745865' in UTC, like tcpdump -tttt; with `local`, local time
    followed by its zone ('2014-03-05 22:55:06.745865 CET')."""
    seconds, fraction = divmod(ts_ns, 1_000_000_000)
    clock = _clock(seconds, local)
    if clock is None:  # beyond what datetime can show
        return f"{seconds}.{fraction // 1000:06d}"
    return f"{clock[0]}.{fraction // 1000:06d}{clock[1]}"


@lru_cache(maxsize=4096)
def _clock(seconds: int, local: bool) -> tuple[str, str] | None:
    """('2014-03-05 21:55:06', zone suffix) of a whole second (cached: adverts of one
    second share it, and datetime formatting is most of a decode line's cost)."""
    try:
        dt = datetime.fromtimestamp(seconds, tz=UTC)
        if local:
            dt = dt.astimezone()
    except (ValueError, OverflowError, OSError):
        return None
    zone = ""
    if local:
        name = dt.tzname() or ""
        offset = dt.strftime("%z")
        if name.isalpha():
            zone = f" {name}"
        elif offset:
            zone = f" UTC{offset[:3]}:{offset[3:5]}"
    return f"{dt:%Y-%m-%d %H:%M:%S}", zone


def describe_issue(advert: Advert, code: str) -> str:
    """Human wording for one validation issue, with the offending value."""
    if code == ISSUE_TTL:
        return f"ttl {advert.ttl} != 255"
    if code == ISSUE_CHECKSUM:
        return f"bad {advert.proto} cksum 0x{advert.checksum:04x}"
    if code == ISSUE_VERSION:
        return f"unknown version {advert.version}"
    if code == ISSUE_TYPE:
        return f"unknown type {advert.type}"
    if code == ISSUE_LENGTH:
        return f"count {advert.count} does not fit length {advert.length}"
    if code == ISSUE_IP_CHECKSUM:
        return "bad IPv4 header cksum"
    return ISSUE_TEXT.get(code, code)


def format_advert(advert: Advert, show_secrets: bool = False, local: bool = False) -> str:
    """One line per advert, in the style of `tcpdump -v`."""
    head = f"{advert.frame:5d}  {format_time(advert.ts_ns, local)} "
    if advert.segment != DEFAULT_SEGMENT:
        head += f"[{advert.segment}] "
    head += f"{advert.src} > {advert.dst}: "
    body = _carp_body(advert) if advert.proto == "carp" else _vrrp_body(advert, show_secrets)
    if advert.issues:
        body += "  [" + "; ".join(describe_issue(advert, code) for code in advert.issues) + "]"
    return head + body


def _vrrp_body(advert: Advert, show_secrets: bool) -> str:
    kind = "Advertisement" if advert.type == 1 else f"unknown type ({advert.type})"
    parts = [f"VRRPv{advert.version}", kind, f"vrid {advert.vrid}"]
    if advert.priority is not None:
        parts.append(f"prio {advert.priority}")
    if advert.auth_type is not None:
        parts.append(f"authtype {advert.auth_name}")
    if advert.version == 2:
        parts.append(f"intvl {advert.interval_cs // 100}s")
    else:
        parts.append(f"intvl {advert.interval_cs}cs")
    parts.append(f"length {advert.length}")
    line = ", ".join(parts)
    if advert.count is not None:
        line += f", addrs({advert.count}): " + ",".join(advert.addresses)
    if advert.auth_type == 1 and advert.auth_data is not None:  # absent when truncated
        line += f' auth "{mask_secret(advert.auth_data, show_secrets)}"'
    if advert.hmac is not None:
        line += ", " + _hmac_text(advert)
    return line


def _hmac_text(advert: Advert) -> str:
    """keepalived's auth_hmac trailer: key, the sender's clock against the capture's."""
    trailer = advert.hmac
    assert trailer is not None
    skew = (trailer.sent_ns - advert.ts_ns) / 1e9
    return (
        f"auth_hmac key {trailer.key_id} sent {format_time(trailer.sent_ns)} "
        f"({skew:+.3f}s) ctr {trailer.counter}"
    )


def hmac_to_dict(advert: Advert) -> dict | None:
    """The JSON form of an auth_hmac trailer (None: the advert is not signed)."""
    trailer = advert.hmac
    if trailer is None:
        return None
    return {
        "scheme": trailer.scheme,
        "key_id": trailer.key_id,
        "seq": trailer.seq,
        "sent": trailer.sent_ns / 1e9,
        "counter": trailer.counter,
        "skew_s": round((trailer.sent_ns - advert.ts_ns) / 1e9, 6),
        "digest": trailer.digest.hex(),
    }


def _carp_body(advert: Advert) -> str:
    return (
        f"CARPv{advert.version}, Advertisement, vhid {advert.vrid}, advbase {advert.advbase}, "
        f"advskew {advert.advskew}, demote {advert.demote}, counter {advert.counter}, "
        f"length {advert.length}"
    )


def advert_to_dict(advert: Advert, show_secrets: bool = False) -> dict:
    """The stable JSON form of an advert (documented in README)."""
    out = {
        "ts": advert.ts_ns / 1e9,
        "file": advert.source,
        "frame": advert.frame,
        "segment": advert.segment,
        "family": advert.family,
        "proto": advert.proto,
        "version": advert.version,
        "type": advert.type,
        "src": advert.src,
        "dst": advert.dst,
        "src_mac": advert.src_mac,
        "dst_mac": advert.dst_mac,
        "vlans": list(advert.vlans),
        "ttl": advert.ttl,
        "vrid": advert.vrid,
        "priority": advert.priority,
        "interval_cs": advert.interval_cs,
        "count": advert.count,
        "addresses": list(advert.addresses),
        "auth_type": advert.auth_name,
        "auth_data": mask_secret(advert.auth_data, show_secrets),
        "checksum": advert.checksum,
        "checksum_ok": advert.checksum_ok,
        "checksum_form": advert.checksum_form,
        "length": advert.length,
        "issues": list(advert.issues),
        "hmac": hmac_to_dict(advert),
    }
    if advert.ah_spi is not None:
        out["ah_spi"] = advert.ah_spi
    if advert.proto == "carp":
        out.update(
            advbase=advert.advbase,
            advskew=advert.advskew,
            counter=advert.counter,
            demote=advert.demote,
        )
    return out
