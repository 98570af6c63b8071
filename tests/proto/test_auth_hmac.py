"""keepalived 2.4's auth_hmac trailer on the wire (issue 16).

A 28-byte trailer after the VRRP message (after VRRPv2's authentication field): scheme,
key id, reserved, the 64-bit anti-replay sequence (sender's seconds, 1/65536 s, counter)
and an HMAC-SHA256 truncated to 16 bytes. The IPv4 checksum keepalived computes stops
before the trailer; the kernel's IPv6 one covers it. Decoded on both routes, not called
malformed; an unknown scheme or non-zero reserved bits still is a length mismatch.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers import packets as P
from tests.helpers.capturewriter import pcap_bytes
from tests.helpers.frames import HMAC_KEY, signed_frames
from tests.helpers.routes import assert_same
from vrrpscope.model import FORM_MESSAGE_ONLY, FORM_PSEUDO, Advert, Frame
from vrrpscope.proto.decode import Decoder
from vrrpscope.report.adverts import advert_to_dict, format_advert

SEQ = 0x6800000080000000  # keepalived's appendix vectors: 2025-04-16 19:07:44.5 UTC
VECTOR4 = bytes.fromhex(
    "3133c80100644402c00002640101000068000000800000001b84bc4e8e43892dc6d98448f8ee2265"
)
VECTOR6 = bytes.fromhex(
    "3133c8010064a2e9fe800000000000000000000000000100"
    "010100006800000080000000c8c56146ebfd66ee10ec4d8186461b78"
)
T_SENT = 0x68000000 * 10**9 + 500_000_000


def _decode(frame: bytes, ts_ns: int = T_SENT) -> Advert:
    advert = Decoder().decode(Frame(ts_ns, 1, frame, len(frame), 1, None, "hmac.pcap"))
    assert isinstance(advert, Advert)
    return advert


def test_the_helper_signs_exactly_as_keepalived_does() -> None:
    """tests/helpers/packets.auth_hmac rebuilds both of keepalived's test vectors."""
    v4 = P.auth_hmac(VECTOR4[:12], src="198.51.100.10", key=HMAC_KEY, seq=SEQ, form="message-only")
    assert v4 == VECTOR4
    v6 = P.auth_hmac(
        VECTOR6[:24], src="fe80::10", dst="fe80::20", key=HMAC_KEY, seq=SEQ, covers_trailer=True
    )
    assert v6 == VECTOR6


def test_keepalived_vectors_decode_as_valid_signed_adverts() -> None:
    four = _decode(P.ethernet(P.ipv4(VECTOR4, src="198.51.100.10")))
    assert four.valid and four.issues == () and four.checksum_form == FORM_MESSAGE_ONLY
    assert (four.vrid, four.priority, four.addresses, four.length) == (
        51,
        200,
        ("192.0.2.100",),
        40,
    )
    assert four.hmac is not None
    assert (four.hmac.scheme, four.hmac.key_id, four.hmac.seq) == (1, 1, SEQ)
    assert four.hmac.sent_ns == T_SENT and four.hmac.counter == 0
    assert four.hmac.digest.hex() == "1b84bc4e8e43892dc6d98448f8ee2265"
    six = _decode(P.ethernet(P.ipv6(VECTOR6, src="fe80::10", dst="fe80::20")))
    assert six.valid and six.checksum_form == FORM_PSEUDO  # over the trailer too
    assert six.addresses == ("fe80::100",) and six.hmac is not None and six.hmac.key_id == 1


def test_rejected_trailers_and_a_cut_one() -> None:
    adverts = [_decode(f) for f in signed_frames()]
    signed = adverts[:6]
    assert [a.vrid for a in signed] == [51, 51, 51, 52, 52, 7] and all(a.valid for a in signed)
    assert all(a.hmac is not None for a in signed)
    assert signed[-1].version == 2 and signed[-1].hmac.key_id == 2  # after the auth field
    scheme, reserved, spoiled, cut = adverts[6:]
    assert "length" in scheme.issues and "length" in reserved.issues  # not a trailer
    assert spoiled.issues == ("checksum",) and spoiled.hmac is not None  # still a trailer
    assert cut.issues == ("truncated",) and cut.hmac is None and "length" not in cut.issues


def test_decode_line_and_json_show_the_trailer() -> None:
    advert = _decode(P.ethernet(P.ipv4(VECTOR4, src="198.51.100.10")), T_SENT - 2 * 10**9)
    line = format_advert(advert)
    assert "auth_hmac key 1 sent 2025-04-16 19:07:44.500000 (+2.000s) ctr 0" in line
    out = advert_to_dict(advert)["hmac"]
    assert out["key_id"] == 1 and out["seq"] == SEQ and out["skew_s"] == 2.0
    assert out["sent"] == T_SENT / 1e9 and out["digest"] == VECTOR4[-16:].hex()
    plain = P.vrrp_v3(51, 200, ["192.0.2.100"], src="198.51.100.10")
    assert advert_to_dict(_decode(P.ethernet(P.ipv4(plain, src="198.51.100.10"))))["hmac"] is None


def _capture(path: Path, frames: list[bytes]) -> Path:
    path.write_bytes(pcap_bytes((T_SENT + i * 10**9, f) for i, f in enumerate(frames)))
    return path


def test_both_routes_read_signed_adverts_alike(tmp_path: Path) -> None:
    path = _capture(tmp_path / "signed.pcap", signed_frames() * 3)
    assert_same([str(path)])


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")
def test_tshark_shows_the_same_bytes(tmp_path: Path) -> None:
    """tshark does not dissect the trailer but its VRRP layer holds it: the 28 bytes after
    the addresses parse to our fields, and its checksum verdict (over the whole payload)
    is good exactly when the checksum covers the trailer."""
    frames = signed_frames()[:6]
    path = _capture(tmp_path / "signed.pcap", frames)
    fields = ["vrrp.virt_rtr_id", "vrrp.prio", "vrrp.ip_addr", "vrrp.ipv6_addr"]
    fields.append("vrrp.checksum.status")
    out = subprocess.run(
        ["tshark", "-n", "-r", str(path), "-Y", "vrrp", "-T", "fields"]
        + [arg for f in fields for arg in ("-e", f)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = [line.split("\t") for line in out.splitlines() if line and "\t" in line]
    assert len(rows) == len(frames)
    # signed_frames: the 2nd (IPv4) and 4th (IPv6) checksums cover the trailer
    coverage = [False, True, False, True, False, False]
    for row, frame, covered in zip(rows, frames, coverage, strict=True):
        ours = _decode(frame)
        assert ours.valid and ours.hmac is not None
        address = row[2] or row[3]
        assert (int(row[0]), int(row[1]), address) == (ours.vrid, ours.priority, ours.addresses[0])
        trailer = frame[-28:]  # the frame ends with the VRRP payload tshark dissected
        assert trailer[0] == ours.hmac.scheme and trailer[1] == ours.hmac.key_id
        assert int.from_bytes(trailer[4:12], "big") == ours.hmac.seq
        assert trailer[12:] == ours.hmac.digest
        assert row[4] == ("1" if covered else "0"), (row, ours.checksum_form)
