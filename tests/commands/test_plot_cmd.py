"""`vrrpscope plot` and `analyze --plot` as a user runs them: stdin, names, bad outputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import packets as P
from tests.helpers.capturewriter import pcap_bytes
from tests.helpers.cli import REPO, assert_clean_error, run
from vrrpscope.analysis import analyze_files
from vrrpscope.capture.writer import PcapngWriter
from vrrpscope.model import Frame
from vrrpscope.report.plot.figures import overview, router_path, timeline_figure

FAILOVER = REPO / "captures" / "failover.pcap"
T0 = 1_700_000_000 * 10**9


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


def _vrrp(vrid: int, src: str, vlans: tuple[int, ...] = ()) -> bytes:
    ip = P.ipv4(P.vrrp_v2(vrid, 100, [f"198.18.9.{vrid}"]), src=src)
    return P.ethernet(ip, vlans=vlans, src_mac=f"02:00:00:00:09:{vrid:02x}")


HOSTILE_IFACES = ["../../escape", "e$\\foo$", "tab\tand\x1b[31mred", "a/b", "a_b"]
DEEP = tuple(range(100, 150))  # a 50-tag VLAN stack


def hostile_capture(path: Path) -> None:
    """pcapng: one router per hostile interface name, one more behind 50 VLAN tags."""
    writer = PcapngWriter(str(path))
    t0 = 1_700_000_000 * 10**9
    frames = []
    for i in range(20):
        for k, iface in enumerate(HOSTILE_IFACES):
            data = _vrrp(k + 1, f"198.18.9.{k + 1}")
            frames.append(Frame(t0 + i * 10**9 + k, 1, data, len(data), 0, iface, "-"))
        data = _vrrp(60, "198.18.9.60", DEEP)
        frames.append(Frame(t0 + i * 10**9 + 9, 1, data, len(data), 0, "eth0", "-"))
    writer.write(frames)
    writer.close()


def test_router_file_names_are_bounded_flat_and_distinct() -> None:
    def r(segment: str):
        return type("R", (), {"proto": "vrrp", "family": 4, "vrid": 7, "segment": segment})()

    out = Path("/x/dir/out.svg")
    segments = [*HOSTILE_IFACES, "eth0." + ".".join(f"vlan{v}" for v in DEEP), "eth0.vlan30"]
    names = [router_path(out, r(s)) for s in segments]
    assert all(p.parent == out.parent for p in names)
    assert all(len(p.name.encode()) <= 200 and p.name.endswith(".svg") for p in names)
    assert all(not any(c in p.name for c in "/\\\t\x1b$") for p in names)
    assert len(set(names)) == len(names)  # a/b and a_b do not overwrite each other
    assert router_path(out, r("eth0.vlan30")).name == "out-vrid7-eth0.vlan30.svg"
    long_stem = Path("/x/dir/" + "o" * 250 + ".png")
    assert len(router_path(long_stem, r("eth0")).name.encode()) <= 200


def test_plot_of_hostile_names_writes_only_inside_the_directory(tmp_path: Path) -> None:
    capture = tmp_path / "hostile.pcapng"
    hostile_capture(capture)
    outdir = tmp_path / "plots"
    outdir.mkdir()
    result = run("plot", str(capture), "-o", str(outdir / "t.png"))
    err = result.stderr.decode()
    assert result.returncode == 0, err
    assert "Traceback" not in err and "Warning" not in err
    written = sorted(p.name for p in outdir.iterdir())
    assert len(written) == 1 + len(HOSTILE_IFACES) + 1  # overview + one per router
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hostile.pcapng", "plots"]
    assert all(len(name) <= 200 for name in written)


def test_an_output_that_cannot_be_written_is_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "t.png").mkdir()  # a directory where the figure should go
    result = run("plot", str(FAILOVER), "-o", str(tmp_path / "t.png"))
    assert_clean_error(result, 2, "t.png", "cannot write the plot")
    result = run("analyze", "--plot", str(tmp_path / "t.png"), str(FAILOVER))
    assert_clean_error(result, 2, "cannot write the plot")


def test_timelines_drawn_in_parallel_are_all_written_and_fail_as_one_line(tmp_path: Path) -> None:
    """6 routers: the timelines are drawn by forked processes; every file is there, in
    order on stdout, and one that cannot be written is still one line and exit 2."""
    many = REPO / "captures" / "many-vrids.pcap"
    result = run("plot", str(many), "--vrid", "1-6", "-o", str(tmp_path / "m.png"))
    assert result.returncode == 0, result.stderr
    lines = result.stderr.decode().splitlines()
    said = [line.split()[-1] for line in lines if line.startswith("vrrpscope: wrote ")]
    names = ["m.png", *(f"m-vrid{v}-default.png" for v in range(1, 7))]
    assert [Path(p).name for p in said] == names
    assert all((tmp_path / n).read_bytes()[:4] == b"\x89PNG" for n in names)
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "m-vrid5-default.png").mkdir()
    result = run("plot", str(many), "--vrid", "1-6", "-o", str(tmp_path / "bad" / "m.png"))
    assert_clean_error(result, 2, "m-vrid5-default.png", "cannot write the plot")


def test_overview_names_speakers_and_counts_in_words(tmp_path: Path) -> None:
    frames = [(T0 + i * 10**9, _vrrp(v, f"198.18.9.{v}")) for i in range(5) for v in (1, 2)]
    path = tmp_path / "two.pcap"
    path.write_bytes(pcap_bytes(frames))
    analysis = analyze_files([str(path)], keep_adverts=True)
    fig = overview(analysis)
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "198.18.9.1  (VRID 1 v4)" in labels and "198.18.9.2  (VRID 2 v4)" in labels
    assert fig.get_suptitle().startswith("2 virtual routers")
    one = overview(analysis, [analysis.routers[next(iter(analysis.routers))]])
    assert one.get_suptitle().startswith("1 virtual router ·")


def test_math_syntax_in_names_is_shown_as_written(tmp_path: Path) -> None:
    capture = tmp_path / "hostile.pcapng"
    hostile_capture(capture)
    analysis = analyze_files([str(capture)], keep_adverts=True)
    (router,) = [r for r in analysis.routers.values() if r.segment == "e$\\foo$"]
    fig = timeline_figure(analysis, router)
    fig.canvas.draw()  # raised ValueError (mathtext) before
    assert "e\\$\\foo\\$" in fig.get_suptitle()
