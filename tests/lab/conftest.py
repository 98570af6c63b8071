"""Fixtures for the real-traffic lab tests."""

from __future__ import annotations

import pytest

from tests.lab.netlab import Lab


@pytest.fixture(scope="session")
def lab_ok() -> None:
    """Skip (with the reason) when namespaces/keepalived/tcpdump are not usable here."""
    ok, why = Lab.available()
    if not ok:
        pytest.skip(f"lab unavailable: {why}")
