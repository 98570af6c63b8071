"""Masking of authentication material: never printed unless the user asks."""

from __future__ import annotations

MASK = "********"  # fixed width: the mask does not even reveal the length


class SecretBytes(bytes):
    """Authentication bytes (password, AH ICV, CARP HMAC) whose repr and str are masked.

    Equal to, and hashed as, the plain bytes: comparisons cost nothing extra; slicing or
    `.hex()` gives plain values (only code that means to show a secret does that).
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return f"b'{MASK}'"

    __str__ = __repr__

    def __reduce__(self):  # pickles as itself (the parallel decode sends adverts)
        return (SecretBytes, (bytes(self),))


class SecretText(str):
    """A password as text, with a masked repr and str (equal to the plain text)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"'{MASK}'"

    def __str__(self) -> str:
        return MASK


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


def auth_text(data: bytes | None) -> SecretText:
    """The password as keepalived configures it: the field up to the first NUL (masked
    in reprs: it ends up in the engine's per-speaker state)."""
    if not data:
        return SecretText("")
    return SecretText(data.split(b"\x00", 1)[0].decode("latin-1"))
