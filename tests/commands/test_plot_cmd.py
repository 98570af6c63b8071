"""`vrrpscope plot` and `analyze --plot` as a user runs them: stdin, names, bad outputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.cli import REPO, run

FAILOVER = REPO / "captures" / "failover.pcap"


@pytest.mark.parametrize(
    "argv",
    [("plot", "-", "-o", "{out}"), ("analyze", "--plot", "{out}", "-")],
    ids=["plot", "analyze --plot"],
)
def test_plot_from_stdin_reads_it_once(argv: tuple[str, ...], tmp_path: Path) -> None:
    out = tmp_path / "t.svg"
    result = run(*(a.format(out=out) for a in argv), stdin=FAILOVER.read_bytes())
    assert result.returncode == 0, result.stderr.decode()
    svg = out.read_text()
    assert "198.18.1.1" in svg and "198.18.1.2" in svg  # both speakers' adverts drawn
