"""The notebook API: `vrrpscope.analyze()` and what its result offers."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure

import vrrpscope
from vrrpscope.analysis import analyze_files
from vrrpscope.errors import UsageError
from vrrpscope.thresholds import Thresholds

ROOT = Path(__file__).parents[1]
VRRP_PCAP = ROOT / "tests" / "fixtures" / "peer" / "tcpdump" / "vrrp.pcap"
SPLIT_BRAIN = ROOT / "captures" / "split-brain.pcap"


@pytest.fixture(scope="module")
def result():
    return vrrpscope.analyze(VRRP_PCAP)


def test_result_matches_the_engine(result):
    engine = analyze_files([str(VRRP_PCAP)])
    assert [(f.kind, f.vrid, f.first_ts_ns, f.speakers) for f in result.findings] == [
        (f.kind, f.vrid, f.first_ts_ns, f.speakers) for f in engine.findings
    ]
    assert {r.key for r in result.routers} == set(engine.routers)
    assert [s.segment for s in result.inventory] == [s.segment for s in engine.inventory]
    failovers = Counter(f.vrid for f in result.findings if f.kind == "failover")
    # seven masters take turns on every VRID (44-46 miss the second one): five moves or more
    assert {r.vrid: r.failovers for r in result.routers} == dict(failovers)
    assert all(failovers[vrid] >= 5 for vrid in (42, 43, 44, 45, 46))


def test_routers_findings_inventory_are_populated(result):
    assert [r.vrid for r in result.routers] == [42, 43, 44, 45, 46]
    assert result.inventory[0].vrids_in_use == {"vrrp/ipv4": [42, 43, 44], "vrrp/ipv6": [45, 46]}
    assert len(result.findings.where(kind="plaintext-auth")) == 7  # VRID 42's seven speakers
    # each better speaker preempts the last: a chain of moves, one by one
    moves = [(f.details["from"][-2:], f.details["to"][-2:], f.details["cause"])
             for f in result.findings.where(kind="failover", vrid=44)]  # fmt: skip
    assert moves[:2] == [("91", "92", "preempted"), ("92", "93", "preempted")]
    serious = result.findings.where(severity="warning")
    assert serious and all(f.severity in ("warning", "critical") for f in serious)
    assert len(serious) + len(result.findings.where(kind="plaintext-auth")) == len(result.findings)


def test_adverts_are_columnar_and_convert_to_pandas(result):
    table = result.adverts
    assert len(table) == 165 == result.analysis.stats.adverts
    assert isinstance(table.rows, np.ndarray) and table.rows["ts_ns"][0] == 1394056506745865000
    df = table.to_pandas()
    for column in (
        "time",
        "ts_ns",
        "frame",
        "segment",
        "family",
        "proto",
        "vrid",
        "src",
        "src_mac",
        "priority",
        "interval_cs",
        "addresses",
        "valid",
    ):
        assert column in df.columns
    assert str(df["time"].dt.tz) == "UTC"
    first = df.iloc[0]
    assert (first.src, first.vrid, first.priority, first.interval_cs) == (
        "10.0.0.91",
        42,
        191,
        1000,
    )
    assert first.addresses == ("10.4.42.1", "10.4.42.2", "10.4.42.3")
    assert set(df.proto) == {"vrrp"} and set(df.family) == {4, 6}
    assert df.groupby("vrid").size().to_dict() == {r.vrid: r.adverts for r in result.routers}


def test_findings_and_routers_to_pandas(result):
    findings = result.findings.to_pandas()
    assert len(findings) == len(result.findings)
    assert {"kind", "severity", "vrid", "speakers", "first_ts", "last_ts", "message"} <= set(
        findings.columns
    )
    first = result.findings[0]
    assert findings.first_ts.iloc[0].value == first.first_ts_ns  # exact to the nanosecond
    routers = result.routers.to_pandas()
    assert routers.vrid.tolist() == [42, 43, 44, 45, 46]
    assert routers.loc[0, "vips"] == "10.4.42.1, 10.4.42.2, 10.4.42.3"
    assert routers.loc[0, "speakers"].startswith("10.0.0.91, 10.0.0.92")


def test_plot_and_overview_return_figures(result):
    fig = result.plot(vrid=44)
    assert isinstance(fig, Figure)
    assert [ax.get_label() for ax in fig.axes] == ["band", "priority", "gaps", "findings"]
    assert "VRID 44" in fig.get_suptitle()
    over = result.overview()
    assert isinstance(over, Figure) and len(over.axes[0].get_yticklabels()) == 5


def test_plot_needs_exactly_one_router(result):
    with pytest.raises(UsageError, match="no virtual router matches vrid=99; there are: VRRP"):
        result.plot(vrid=99)
    with pytest.raises(UsageError, match="5 virtual routers match"):
        result.plot()
    assert result.routers.get(vrid=45, family=6).family == 6


def test_html_views(result):
    page = result._repr_html_()
    serious = len(result.findings.where(severity="warning"))
    assert "vrrp.pcap" in page and "5 virtual router(s)" in page
    assert f"{serious} warning or critical finding(s)" in page
    assert "<table" in page and page.count("<tr>") > 30
    findings = result.findings._repr_html_()
    assert "failover" in findings and "plaintext-auth" in findings
    assert result.routers._repr_html_().count("<tr>") == 1 + 5
    assert "vrrp.pcap" in repr(result) and "165 adverts" in repr(result)


def test_html_escapes_what_comes_off_the_wire(result):
    from vrrpscope.api import FindingList

    evil = result.findings[0]
    original = evil.message
    try:
        evil.message = "<script>alert(1)</script>"
        assert "<script>" not in FindingList([evil])._repr_html_()
    finally:
        evil.message = original


def test_thresholds_are_keywords_and_checked():
    relaxed = vrrpscope.analyze(str(VRRP_PCAP), flap_transitions=2, flap_window_s=3600.0)
    assert relaxed.findings.where(kind="flapping")
    assert relaxed.analysis.engine.thresholds == Thresholds(
        flap_transitions=2, flap_window_s=3600.0
    )
    with pytest.raises(UsageError, match="unknown threshold.*flap_transition\\b"):
        vrrpscope.analyze(VRRP_PCAP, flap_transition=2)
    with pytest.raises(UsageError, match="at least 2"):
        vrrpscope.analyze(VRRP_PCAP, flap_transitions=1)
    with pytest.raises(UsageError, match="at least one"):
        vrrpscope.analyze([])


def test_several_files_are_merged(tmp_path):
    v3 = VRRP_PCAP.parent.parent / "pcapplusplus" / "VRRP-V3-IPv4.pcap"
    both = vrrpscope.analyze([VRRP_PCAP, v3])
    assert len(both.adverts) == 165 + len(vrrpscope.analyze(v3).adverts)
    assert both.files == [str(VRRP_PCAP), str(v3)]
    assert len(vrrpscope.analyze([VRRP_PCAP, VRRP_PCAP]).adverts) == 165  # read once


@pytest.mark.skipif(not SPLIT_BRAIN.exists(), reason="captures/split-brain.pcap not generated")
def test_split_brain_capture_is_found_and_plotted():
    res = vrrpscope.analyze(SPLIT_BRAIN)
    (split,) = res.findings.where(kind="split-brain")
    fig = res.plot(vrid=split.vrid, segment=split.segment)
    assert [c.get_gid() for c in fig.axes[0].collections].count("concurrent") == 1


def test_importing_vrrpscope_does_not_load_matplotlib():
    code = "import sys, vrrpscope; print('matplotlib' in sys.modules, callable(vrrpscope.analyze))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]


def test_carp_and_vrrp_with_one_number_are_told_apart_by_proto():
    result = vrrpscope.analyze(str(ROOT / "captures" / "carp-collision.pcap"))
    assert result.routers.get(vrid=51, proto="carp").proto == "carp"
    assert result.routers.get(vrid=51, proto="vrrp").proto == "vrrp"
    with pytest.raises(UsageError, match="proto="):
        result.routers.get(vrid=51)
    assert result.plot(vrid=51, proto="carp").axes


def test_incidents_and_nodes_of_a_node_restart():
    result = vrrpscope.analyze(ROOT / "captures" / "many-vrids.pcap")
    incidents = result.incidents
    assert [i.kind for i in incidents] == ["node-stopped", "node-returned"] + ["rollup"] * 4
    assert "6 incidents" in repr(incidents) and "in 6 incidents" in repr(result)
    assert [i.id for i in incidents.where(severity="warning")] == ["i1", "i2"]
    assert [i.id for i in incidents.where(node="198.18.1.2", kind="rollup")] == ["i5", "i6"]
    assert len(incidents.where(vrid=1)) == 2  # only r1's notes touch VRID 1
    frame = incidents.to_pandas()
    assert list(frame["id"]) == [f"i{n}" for n in range(1, 7)]
    assert str(frame["first_ts"].dt.tz) == "UTC"
    assert frame.loc[0, "vrids"] == list(range(2, 21, 2)) and len(frame.loc[0, "findings"]) == 20
    findings = result.findings.to_pandas()
    assert set(findings["incident"]) == set(frame["id"])
    assert "node-stopped" in result._repr_html_() and "<th>findings</th>" in incidents._repr_html_()
    nodes = vrrpscope.api.nodes_frame(result.nodes)
    assert list(nodes["ip"]) == ["198.18.1.1", "198.18.1.2"]
    r2 = nodes.iloc[1]
    assert r2["masters"] == list(range(2, 21, 2)) and r2["incidents"][:2] == ["i1", "i2"]
