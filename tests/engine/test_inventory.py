"""The segment inventory: what each speaker said, even when no advert of it was valid."""

from __future__ import annotations

from pathlib import Path

from vrrpscope.analysis import analyze_files

PEER = Path(__file__).parents[1] / "fixtures" / "peer" / "pcapplusplus"


def _speakers(path: Path) -> list:
    analysis = analyze_files([str(path)])
    return [sp for seg in analysis.inventory for r in seg.routers for sp in r.speakers]


def test_a_speaker_heard_only_in_invalid_adverts_keeps_what_they_said():
    # PcapPlusPlus' VRRP-V2 advert lacks the 8-byte auth field (RFC 3768 7.1): receivers
    # drop it, but the inventory still shows its priority and its three addresses.
    (speaker,) = _speakers(PEER / "VRRP-V2.pcap")
    assert speaker.invalid == 1 and not speaker.master_now
    assert speaker.priority == 100
    assert speaker.addresses == ["192.168.0.1", "192.168.0.2", "192.168.0.3"]


def test_a_valid_advert_wins_over_what_invalid_ones_said():
    for sp in _speakers(PEER / "VRRP-V3-IPv4.pcap"):
        if sp.adverts > sp.invalid:
            assert sp.priority is not None and sp.addresses
