"""`vrrpscope decode --crosscheck`: our decode against Wireshark's dissector (via pyshark).

Lists every advert where the two differ, and says why where Wireshark is known to be wrong
or to make a different choice, so a user can see for themselves that our decode holds.
"""

from __future__ import annotations

import argparse
import shutil
from collections.abc import Iterator
from dataclasses import dataclass

from vrrpscope.capture.timeline import OutOfSequence
from vrrpscope.errors import EXIT_DAMAGED, EXIT_FINDINGS, EXIT_OK, UsageError
from vrrpscope.model import FORM_MESSAGE_ONLY, FORM_PSEUDO_GROUP, ISSUE_FRAGMENT, Advert, Frame
from vrrpscope.pipeline import DecodeSession
from vrrpscope.proto.decode import Decoded
from vrrpscope.report.stderr import say

_CARP_AS_VRRP = (
    "Wireshark decoded this 36-byte CARP advert as VRRP (its CARP heuristic did not claim it); "
    "byte 3 is CARP's authlen 7, not an address count"
)
_OUT_OF_SEQUENCE = "its timestamp is out of sequence with the frames around it: left out as damage"
_QUOTED = "VRRP quoted inside an ICMP error: an old advert echoed back, not one on the wire"
_LENGTH_PAST_FRAME = (
    "the IP header claims more bytes than the frame held on the wire ({orig} recorded, "
    "{caplen} captured: not cut by a snaplen, a lying length){tcpdump}; Wireshark then "
    "checksums the bytes the frame holds ('IPv4 total length exceeds packet length'), "
    "vrrpscope reports the message truncated and its checksum unverified"
)
_TCPDUMP_INVALID = "; tcpdump refuses such a record: 'Invalid header: len < caplen'"
_V3_FORM = (
    "the speaker checksums VRRPv3/IPv4 with the {form} form; Wireshark only tries the RFC 5798 "
    "pseudo-header unless vrrp.v3_checksum_as_in_v2 is set"
)


@dataclass(slots=True)
class Difference:
    frame: int
    field: str
    ours: object
    theirs: object
    reason: str | None = None  # set when the difference is understood

    def __str__(self) -> str:
        text = (
            f"frame {self.frame}: {self.field}: vrrpscope={self.ours!r} wireshark={self.theirs!r}"
        )
        return text + (f"  (explained: {self.reason})" if self.reason else "  (UNEXPLAINED)")


def wireshark_fields(path: str) -> dict[int, dict]:
    """VRRP/CARP fields per frame number as tshark decodes them."""
    if shutil.which("tshark") is None:
        raise UsageError("tshark not found: install it (Debian: apt-get install tshark)")
    try:
        import pyshark
    except ImportError as exc:
        raise UsageError("pyshark not installed: pip install 'vrrpscope[wireshark]'") from exc
    capture = pyshark.FileCapture(
        path,
        display_filter="vrrp || carp",
        override_prefs={"ip.check_checksum": "TRUE"},
        keep_packets=False,
    )
    frames: dict[int, dict] = {}
    try:
        for packet in capture:
            frames[int(packet.number)] = _fields(packet)
    finally:
        capture.close()
    return frames


def _fields(packet) -> dict:
    if not hasattr(packet, "vrrp") and not hasattr(packet, "carp"):
        return {"proto": "quoted"}  # VRRP quoted inside an ICMP error (pyshark hides it)
    if hasattr(packet, "carp"):
        layer = packet.carp
        return {
            "proto": "carp",
            "vrid": int(layer.vhid),
            "advbase": int(layer.adver_int),
            "advskew": int(layer.advskew),
        }
    layer = packet.vrrp
    out: dict = {"proto": "vrrp", "version": int(layer.version)}
    if out["version"] not in (2, 3):
        return out
    get = layer.get_field
    out["vrid"] = int(layer.virt_rtr_id)
    out["priority"] = int(layer.prio)
    out["count"] = int(layer.addr_count)
    if get("adver_int") is not None:
        out["interval_cs"] = int(layer.adver_int) * 100
    elif get("short_adver_int") is not None:
        out["interval_cs"] = int(layer.short_adver_int)
    addresses = get("ip_addr") or get("ipv6_addr")
    out["addresses"] = [f.showname_value for f in addresses.all_fields] if addresses else []
    status = get("checksum_status")
    out["checksum"] = {"0": "bad", "1": "good", "2": "unverified"}.get(str(status))
    return out


def compare(
    advert: Advert, theirs: dict, lengths: tuple[int, int] | None = None
) -> list[Difference]:
    """Field-by-field differences for one advert, each with a reason where known;
    ``lengths``: the frame's (captured, original) length."""
    diffs: list[Difference] = []
    if advert.proto != theirs["proto"]:
        reason = _CARP_AS_VRRP if advert.proto == "carp" else None
        return [Difference(advert.frame, "protocol", advert.proto, theirs["proto"], reason)]
    if advert.proto == "carp":
        ours = {"vrid": advert.vrid, "advbase": advert.advbase, "advskew": advert.advskew}
        return [
            Difference(advert.frame, key, ours[key], theirs[key])
            for key in ours
            if ours[key] != theirs[key]
        ]
    ours = {
        "version": advert.version,
        "vrid": advert.vrid,
        "priority": advert.priority,
        "count": advert.count,
        "interval_cs": advert.interval_cs,
        "addresses": list(advert.addresses),
    }
    for key, value in ours.items():
        if key in theirs and theirs[key] != value:
            reason = _AUTH_NOT_ADDRESS if key == "addresses" and _count_into_auth(advert) else None
            diffs.append(Difference(advert.frame, key, value, theirs[key], reason))
    if "checksum" in theirs:
        mine = _checksum_status(advert)
        if theirs["checksum"] is not None and mine != theirs["checksum"]:
            reason = None
            if advert.hmac is not None and mine == "good":
                reason = _HMAC_COVERAGE
            elif advert.checksum_form in (FORM_MESSAGE_ONLY, FORM_PSEUDO_GROUP):
                reason = _V3_FORM.format(form=advert.checksum_form)
            elif mine == "unverified":  # Wireshark: good or bad
                reason = _past_frame(advert, lengths)
            diffs.append(Difference(advert.frame, "checksum", mine, theirs["checksum"], reason))
    return diffs


_HMAC_COVERAGE = (
    "a keepalived auth_hmac trailer (28 bytes) follows the message: the checksum covers "
    "the message alone (keepalived computes it so over IPv4; the kernel's IPv6 one covers "
    "the trailer too), while Wireshark, which does not know the trailer, sums the whole "
    "payload"
)

_AUTH_NOT_ADDRESS = (
    "the address count reaches into the 8-byte authentication field (VRRPv2 with "
    "authentication, the message too short for both): vrrpscope keeps those bytes as the "
    "secret and never shows them as an address (issue 'length'); Wireshark reads them as one"
)


def _count_into_auth(advert: Advert) -> bool:
    """A VRRPv2 advert with authentication whose count claims addresses where the
    authentication data stands (the decoder then shows fewer addresses)."""
    return (
        advert.version == 2
        and bool(advert.auth_type)
        and "length" in advert.issues
        and len(advert.addresses) < (advert.count or 0)
    )


def _past_frame(advert: Advert, lengths: tuple[int, int] | None) -> str | None:
    """Why Wireshark checks a truncated message's checksum: the IP length runs past the
    frame's original length (not a snaplen cut), so Wireshark takes the frame's end as
    the packet's end and every byte it then expects is there."""
    if lengths is None or "truncated" not in advert.issues or ISSUE_FRAGMENT in advert.issues:
        return None
    caplen, orig = lengths
    if orig > caplen:  # cut by a snaplen: Wireshark leaves it unverified too
        return None
    tcpdump = _TCPDUMP_INVALID if orig < caplen else ""
    return _LENGTH_PAST_FRAME.format(orig=orig, caplen=caplen, tcpdump=tcpdump)


def _checksum_status(advert: Advert) -> str:
    if advert.checksum_ok:
        return "good"
    return "unverified" if {"truncated", ISSUE_FRAGMENT} & set(advert.issues) else "bad"


def run_crosscheck(args: argparse.Namespace) -> int:
    status = EXIT_OK
    for path in args.files:
        if path == "-":
            raise UsageError("--crosscheck needs files, not stdin (tshark reads the file again)")
        run = DecodeSession([path])
        lengths: dict[int, tuple[int, int]] = {}
        ours = {a.frame: a for a in _items(run, lengths) if isinstance(a, Advert)}
        theirs = wireshark_fields(path)
        diffs: list[Difference] = []
        left_out = {d.frame for d in run.damage if isinstance(d, OutOfSequence)}
        for frame in sorted(set(ours) | set(theirs)):
            if frame not in theirs:
                diffs.append(
                    Difference(frame, "decoded", True, False, _missing_reason(ours[frame]))
                )
            elif frame not in ours:
                reason = _QUOTED if theirs[frame]["proto"] == "quoted" else None
                if frame in left_out:
                    reason = _OUT_OF_SEQUENCE
                diffs.append(Difference(frame, "decoded", False, True, reason))
            else:
                diffs.extend(compare(ours[frame], theirs[frame], lengths.get(frame)))
        unexplained = [d for d in diffs if d.reason is None]
        for diff in diffs:
            print(f"{path}: {diff}")
        print(
            f"{path}: {len(ours)} adverts, {len(theirs)} Wireshark VRRP/CARP frames, "
            f"{len(diffs)} difference(s), {len(unexplained)} unexplained"
        )
        if unexplained:
            status = EXIT_FINDINGS
        if run.damage:
            for damage in run.damage:
                say(f"damaged input: {damage}")
            status = max(status, EXIT_DAMAGED)
    return status


def _items(run: DecodeSession, lengths: dict[int, tuple[int, int]]) -> Iterator[Decoded]:
    """``run``'s items, noting each frame's (captured, original) length in ``lengths``."""
    assert run.reader is not None

    def chunks() -> Iterator[list[Frame]]:
        for chunk in run.reader or ():
            for frame in chunk:
                lengths[frame.number] = (len(frame.data), frame.orig_len)
            yield chunk

    try:
        yield from run.decoder.decode_all(chunks())
    finally:
        run.reader.close()


def _missing_reason(advert: Advert) -> str | None:
    if advert.proto == "carp":
        return "Wireshark's CARP heuristic did not claim this CARP advert"
    if ISSUE_FRAGMENT in advert.issues:
        return "Wireshark holds IP fragments for reassembly and decodes no VRRP from them"
    return None
