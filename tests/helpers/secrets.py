"""A capture full of secrets (a VRRPv2 password, AH ICVs, a CARP HMAC) and every way
one could leak in text: what the secret tests search every output for."""

from __future__ import annotations

import base64

from tests.helpers import packets as P
from tests.helpers.capturewriter import pcap_bytes

PASSWORD = b"hunter22"
CARP_HMAC = bytes.fromhex("c3a19e0d5b7f2e4186f0a9d3b2c5e7f1089a4b6d")
AH_ICV_V2 = bytes.fromhex("9f3e2d1c0b8a7f6e5d4c3b2a")
AH_ICV_V3 = bytes.fromhex("e1d2c3b4a5968778695a4b3c")
AH_ICV_V3_6 = bytes.fromhex("0f1e2d3c4b5a69788796a5b4")
SECRETS = {
    "password": PASSWORD,
    "carp-hmac": CARP_HMAC,
    "ah-icv-v2": AH_ICV_V2,
    "ah-icv-v3": AH_ICV_V3,
    "ah-icv-v3-ipv6": AH_ICV_V3_6,
}
MASK = "********"


def secret_capture() -> bytes:
    """Five adverts, one per secret, ten times over (a day of adverts is many lines)."""
    frames = [
        P.ipv4(
            P.vrrp_v2(1, 100, ["198.18.1.100"], auth_type=1, auth_data=PASSWORD), src="198.18.1.11"
        ),
        P.ipv4(P.carp(2, hmac=CARP_HMAC), src="198.18.1.12"),
        P.ipv4(
            P.ah(P.vrrp_v2(3, 100, ["198.18.1.103"], auth_type=2), icv=AH_ICV_V2),
            src="198.18.1.13",
            proto=51,
        ),
        P.ipv4(
            P.ah(P.vrrp_v3(4, 100, ["198.18.1.104"], src="198.18.1.14"), icv=AH_ICV_V3),
            src="198.18.1.14",
            proto=51,
        ),
        P.ipv6(
            P.ah(P.vrrp_v3(5, 100, ["fe80::105"], src="fe80::15"), icv=AH_ICV_V3_6),
            src="fe80::15",
            nxt=51,
        ),
    ]
    ts = 1_700_000_000 * 10**9
    return pcap_bytes(
        (ts + (i * 5 + j) * 10**8, P.ethernet(ip)) for i in range(10) for j, ip in enumerate(frames)
    )


def spellings(secret: bytes) -> set[bytes]:
    """Every way a secret could be written out, and each 4-byte piece of it in hex."""
    forms = {secret, secret.hex().encode(), secret.hex().upper().encode()}
    forms |= {secret.hex(":").encode(), secret.hex(" ").encode(), base64.b64encode(secret)}
    forms |= {secret[i : i + 4].hex().encode() for i in range(len(secret) - 3)}
    if secret.isascii() and secret.decode().isprintable():
        forms |= {secret[i : i + 6] for i in range(len(secret) - 5)}  # 6-letter pieces
    return forms
