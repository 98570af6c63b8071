"""Masking of authentication material: never printed unless the user asks."""

from __future__ import annotations

MASK = "********"  # fixed width: the mask does not even reveal the length


def mask_secret(data: bytes | None, show: bool = False) -> str | None:
    """Printable form of an auth field: masked unless `show` is set ("" when all zero).

    VRRPv2 simple-text passwords are shown as text (NUL padding stripped), binary material
    (AH ICV, CARP HMAC) as hex.
    """
    if data is None:
        return None
    text = _printable(data)
    if show:
        return text
    return MASK if data.strip(b"\x00") else ""


def _printable(data: bytes) -> str:
    stripped = data.rstrip(b"\x00")
    if stripped and all(32 <= b < 127 for b in stripped):
        return stripped.decode("ascii")
    return data.hex()


def auth_text(data: bytes | None) -> str:
    """The password as keepalived configures it: the field up to the first NUL."""
    if not data:
        return ""
    return data.split(b"\x00", 1)[0].decode("latin-1")
