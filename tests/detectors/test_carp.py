"""carp-collision, and CARP adverts never read as a VRRP resignation."""

from __future__ import annotations

from tests.helpers.advertfactory import AdvertFactory, capture, of_kind, run
from vrrpscope.findings import Kind, Severity


def test_carp_vhid_equal_to_vrrp_vrid_on_one_segment() -> None:
    f = AdvertFactory(vrid=5)
    carp = f.train("10.0.0.7", 0, 30, proto="carp")
    vrrp = f.train("10.0.0.1", 0.3, 30.3)
    engine = run(capture(carp, vrrp), end=31)
    (col,) = of_kind(engine, Kind.CARP_COLLISION)
    assert col.severity == Severity.CRITICAL and (col.segment, col.vrid) == ("eth0", 5)
    assert col.speakers == ("10.0.0.1", "10.0.0.7")
    assert col.details["carp_speakers"] == ["10.0.0.7"]
    assert col.details["vrrp_speakers"] == ["10.0.0.1"]
    assert "00:00:5e:00:01:05" in col.message
    (seg,) = engine.inventory()
    assert seg.vrids_in_use == {"carp/ipv4": [5], "vrrp/ipv4": [5]}
    assert 5 not in seg.free_vrids[4] and 5 in seg.free_vrids[6]  # IPv6: 00:00:5e:00:02:xx


def test_carp_and_vrrp_on_different_segments_or_numbers_do_not_collide() -> None:
    f = AdvertFactory()
    engine = run(
        capture(
            f.train("10.0.0.7", 0, 10, proto="carp", vrid=5, segment="em0"),
            f.train("10.0.0.1", 0, 10, vrid=5, segment="eth1"),
            f.train("10.0.0.8", 0, 10, proto="carp", vrid=6, segment="eth1"),
        ),
        end=10.5,
    )
    assert of_kind(engine, Kind.CARP_COLLISION) == []


def test_carp_is_never_a_resignation_and_fails_over_on_advskew() -> None:
    f = AdvertFactory(proto="carp", vrid=9)
    master = f.train("10.0.0.7", 0, 10, advskew=0)
    backup = f.train("10.0.0.8", 13.2, 30, advskew=100)
    engine = run(capture(master, backup), end=30.5)
    assert of_kind(engine, Kind.RESIGNED) == []
    (fo,) = of_kind(engine, Kind.FAILOVER)
    assert fo.details["cause"] == "silence"
    assert (fo.details["from_advskew"], fo.details["to_advskew"]) == (0, 100)
    router = next(iter(engine.routers.values()))
    sp = router.speakers[("10.0.0.8", "00:00:5e:00:01:09")]
    assert sp.priority is None and sp.advskew == 100


def test_carp_preemption_by_lower_advskew() -> None:
    f = AdvertFactory(proto="carp", vrid=9)
    engine = run(
        capture(f.train("10.0.0.8", 0, 21, advskew=100), f.train("10.0.0.7", 20.5, 40, advskew=0)),
        end=40.5,
    )
    (fo,) = of_kind(engine, Kind.FAILOVER)
    assert fo.details["cause"] == "preempted" and fo.details["to"] == "10.0.0.7"
    assert of_kind(engine, Kind.SPLIT_BRAIN) == []
    # advskew 100 makes the interval 1.39 s: how CARP hosts rank, no config mismatch
    assert of_kind(engine, Kind.CONFIG_MISMATCH) == []
