"""vrrpscope: find out what is wrong with VRRP / CARP on a network segment."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["__version__", "analyze"]

if TYPE_CHECKING:
    from vrrpscope.api import analyze


def __getattr__(name: str) -> Any:
    """Import the notebook API on first use, so the CLI starts without matplotlib."""
    if name == "analyze":
        from vrrpscope.api import analyze

        return analyze
    raise AttributeError(f"module 'vrrpscope' has no attribute {name!r}")
