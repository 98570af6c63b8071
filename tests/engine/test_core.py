"""Engine: master timeline, edges of the RFC election, time handling, caps, inventory."""

from __future__ import annotations

import json
import random

import pytest

from tests.helpers.advertfactory import NS, AdvertFactory, at, capture, of_kind, run, serious
from vrrpscope.engine.core import Engine
from vrrpscope.engine.inventory import format_ranges
from vrrpscope.findings import FindingEvent, Kind, Severity
from vrrpscope.model import AddressClaim, OtherTraffic
from vrrpscope.thresholds import Thresholds

A, B = "10.0.0.1", "10.0.0.2"


def test_clean_cluster_has_no_warning_and_a_full_inventory() -> None:
    f = AdvertFactory(vrid=51)
    engine = run(f.train(A, 0, 120, priority=200), end=120.5)
    assert serious(engine) == []
    assert engine.findings == []
    (seg,) = engine.inventory()
    assert seg.segment == "eth0"
    assert seg.vrids_in_use == {"vrrp/ipv4": [51]}
    assert 51 not in seg.free_vrids[4] and len(seg.free_vrids[4]) == 254
    assert seg.free_vrids[6] == list(range(1, 256))
    (router,) = seg.routers
    assert router.masters == [A] and router.last_master == A
    assert router.adverts == 121 and router.failovers == 0
    assert router.interval_s == 1.0
    assert router.observed_median_s == pytest.approx(1.0, abs=0.005)
    assert router.observed_max_s == pytest.approx(1.0)
    (sp,) = router.speakers
    assert (sp.priority, sp.priority_min, sp.priority_max) == (200, 200, 200)
    assert sp.checksum_forms == {"v2": 121}
    json.dumps(seg.to_dict())  # JSON-serialisable


def test_startup_tie_is_no_failover_and_no_split_brain() -> None:
    # Both start as master; the lower IP hears the higher one (equal priority) and yields.
    f = AdvertFactory()
    adverts = capture(f.train(A, 0, 1), f.train(B, 0.2, 60))
    engine = run(adverts, end=60.5)
    assert serious(engine) == []
    router = next(iter(engine.routers.values()))
    assert router.master == (B, f.advert(0, B).src_mac)
    assert [p.src for p in router.timeline()] == [A, B]


def test_equal_priority_tie_takeover_by_higher_ip_is_preemption_not_split_brain() -> None:
    f = AdvertFactory()
    adverts = capture(f.train(A, 0, 21), f.train(B, 20.5, 60))
    engine = run(adverts, end=60.5)
    (fo,) = of_kind(engine, Kind.FAILOVER)
    assert fo.details["cause"] == "preempted"
    assert fo.details["preempt_reason"] == "equal priority, higher primary IP"
    assert fo.details["overlap_s"] == pytest.approx(0.5)
    assert {k for k, _ in serious(engine)} == {"failover"}


def test_priority_255_owner_resigns_backup_takes_over_owner_preempts_back() -> None:
    f = AdvertFactory(version=3)
    skew = (256 - 100) / 256  # backup priority 100, 1 s interval (v3: x interval)
    owner = f.train(A, 0, 10, priority=255) + [f.advert(10.5, A, priority=0)]
    backup = f.train(B, 10.5 + skew, 30.2, priority=100)
    back = f.train(A, 30, 60, priority=255)  # owner returns and takes over at once
    engine = run(capture(owner, backup, back), end=60.5)
    first, second = of_kind(engine, Kind.FAILOVER)
    assert [first.details[k] for k in ("from", "to", "cause")] == [A, B, "resigned"]
    assert first.details["takeover_s"] == pytest.approx(skew, abs=1e-3)
    assert first.details["expected_s"] == pytest.approx(skew, abs=1e-3)
    assert first.details["expected_rule"] == "Skew_Time"
    assert first.details["from_priority"] == 255 and first.details["to_priority"] == 100
    assert (second.details["from"], second.details["to"], second.details["cause"]) == (
        B,
        A,
        "preempted",
    )
    assert second.details["preempt_reason"] == "higher priority"
    assert of_kind(engine, Kind.SPLIT_BRAIN) == [] and of_kind(engine, Kind.NO_MASTER) == []
    (resigned,) = of_kind(engine, Kind.RESIGNED)
    assert resigned.severity == Severity.INFO and resigned.speakers == (A,)


def test_one_speaker_only_and_capture_ending_after_it_is_not_no_master() -> None:
    f = AdvertFactory()
    engine = run(f.train(A, 0, 30), end=32)  # ends 2 s after the last advert
    assert engine.findings == []
    engine = run(f.train(A, 0, 30), end=60)  # the capture goes on for 30 s of silence
    (nm,) = of_kind(engine, Kind.NO_MASTER)
    assert nm.first_ts_ns == at(30) and nm.last_ts_ns == at(60) and not nm.open


def test_vrid_reused_on_two_vlans_is_not_a_conflict() -> None:
    f = AdvertFactory()
    a = f.train(A, 0, 30, segment="eth0/vlan10", addresses=("10.0.10.1",))
    b = f.train("10.0.20.2", 0, 30, segment="eth0/vlan20", addresses=("10.0.20.1",))
    engine = run(capture(a, b), end=30.5)
    assert serious(engine) == []
    assert len(engine.routers) == 2
    assert [s.segment for s in engine.inventory()] == ["eth0/vlan10", "eth0/vlan20"]


def test_backwards_timestamps_are_counted_and_never_make_negative_gaps() -> None:
    f = AdvertFactory()
    adverts = capture(f.train(A, 0, 20))
    adverts.insert(10, f.advert(3.0, A))  # a stray older packet (merged files)
    engine = run(adverts, end=20.5)
    assert engine.stats.backwards_ts == 1
    assert engine.stats.max_step_back_ns == 6 * NS
    (tb,) = of_kind(engine, Kind.TIMESTAMPS_BACKWARDS)
    assert tb.details == {"count": 1, "max_step_back_s": 6.0}
    sp = next(iter(next(iter(engine.routers.values())).speakers.values()))
    assert sp.gaps is not None and min(sp.gaps.hist) >= 0
    assert serious(engine) == []


def test_live_advance_and_offline_give_the_same_findings() -> None:
    f = AdvertFactory()
    adverts = capture(f.train(A, 0, 10, priority=200), f.train(B, 20, 40, priority=100))
    offline = run(adverts, end=40.5)
    live = Engine()
    for a in adverts:
        while live.now_ns is not None and live.now_ns + NS // 10 < a.ts_ns:
            live.advance(live.now_ns + NS // 10)  # a 100 ms timer between packets
        live.feed(a)
    live.finish(at(40.5))

    def shape(e: Engine) -> list[tuple]:
        return [
            (x.kind, x.speakers, x.first_ts_ns, x.last_ts_ns, x.frames, x.details)
            for x in e.findings
        ]

    assert shape(live) == shape(offline)
    assert {x.kind for x in offline.findings} == {Kind.NO_MASTER, Kind.FAILOVER}


def test_events_open_update_close_in_order() -> None:
    f = AdvertFactory()
    events: list[FindingEvent] = []
    run(f.train(A, 0, 10) + f.train(A, 30, 35), end=35.5, events=events)
    assert [(e.action, e.finding.kind) for e in events] == [
        ("open", Kind.NO_MASTER),
        ("close", Kind.NO_MASTER),
    ]


def test_other_traffic_and_claims_only_feed_the_inventory() -> None:
    engine = Engine()
    for i in range(5):
        engine.feed_other(OtherTraffic(at(i), i + 1, "eth0", 4, "ospf", "10.0.0.9", "224.0.0.5"))
    engine.feed_other(OtherTraffic(at(6), 7, "eth0", 6, "mdns", "fe80::1", "ff02::fb"))
    engine.feed_claim(AddressClaim(at(7), 8, "eth0", "10.0.0.100", "52:54:00:00:00:01"))
    engine.finish()
    (seg,) = engine.inventory()
    assert seg.other_protocols == {"ospf": 5, "mdns": 1}
    assert seg.routers == [] and seg.free_vrids[4] == list(range(1, 256))
    assert engine.findings == []
    assert engine.stats.other == 6 and engine.stats.claims == 1


def test_caps_bound_memory_under_random_sources() -> None:
    rng = random.Random(7)
    f = AdvertFactory()
    th = Thresholds(max_findings=500)
    engine = Engine(th)
    for i in range(100_000):
        src = f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        mac = "02:00:" + ":".join(f"{rng.randrange(256):02x}" for _ in range(4))
        engine.feed(
            f.advert(
                i / 1000, src, vrid=rng.choice((7, 8)), src_mac=mac, priority=rng.randrange(1, 255)
            )
        )
    engine.finish()
    assert all(len(r.speakers) <= th.max_speakers_per_router for r in engine.routers.values())
    assert all(len(r.active) <= th.max_speakers_per_router for r in engine.routers.values())
    assert engine.stats.evicted_speakers >= 100_000 - 2 * th.max_speakers_per_router
    findings = engine.findings
    assert len(findings) <= th.max_findings + 1
    kinds = {x.kind for x in findings}
    assert Kind.CAPACITY in kinds
    assert len(engine._timers) < 200_000  # stale timers are swept
    assert all(
        len(r.contests) <= 256 and len(r.pair_findings) <= 1000 for r in engine.routers.values()
    )


def test_router_cap_evicts_stalest_router() -> None:
    f = AdvertFactory()
    engine = Engine(Thresholds(max_routers=10))
    for vrid in range(1, 31):
        engine.feed(f.advert(vrid, A, vrid=vrid))
    engine.finish()
    assert sorted(k[3] for k in engine.routers) == list(range(21, 31))
    assert engine.stats.evicted_routers == 20
    (cap,) = of_kind(engine, Kind.CAPACITY)
    assert cap.details == {"limit": 10, "evicted": 20}


def test_feed_after_finish_is_refused() -> None:
    engine = Engine()
    engine.finish()
    with pytest.raises(RuntimeError):
        engine.feed(AdvertFactory().advert(0))


def test_format_ranges() -> None:
    assert format_ranges([1, 2, 3, 7, 9, 10]) == "1-3,7,9-10"
    assert format_ranges([]) == ""


def test_thresholds_validate_and_describe() -> None:
    with pytest.raises(ValueError):
        Thresholds(flap_transitions=1)
    with pytest.raises(ValueError):
        Thresholds(max_routers=0)
    names = [row[0] for row in Thresholds.describe()]
    assert "concurrency_factor" in names and "max_speakers_per_router" in names
    assert all(row[3] for row in Thresholds.describe())


def test_live_timer_ahead_of_packet_timestamps_is_not_backwards() -> None:
    f = AdvertFactory()
    engine = Engine()
    for adv in f.train(A, 0, 20):
        engine.feed(adv)
        engine.advance(adv.ts_ns + NS // 2)
        engine.advance(adv.ts_ns + NS - NS // 100)  # the wall clock runs 10 ms ahead
    engine.finish()
    assert engine.stats.backwards_ts == 0 and engine.findings == []


def test_every_kind_serialises_to_json() -> None:
    f = AdvertFactory()
    c = AdvertFactory(proto="carp")
    adverts = capture(
        f.train(
            A, 0, 30, priority=200, src_mac="52:54:00:00:00:01", auth_type=1, auth_data=b"topsecret"
        ),
        f.train(
            B, 5, 30, priority=100, auth_type=1, auth_data=b"topsecret", interval=2.0, every=1.0
        ),
        f.train("10.0.0.9", 0, 10, vrid=52, addresses=("10.0.0.200",)),
        f.train("10.0.0.10", 0.5, 10.5, vrid=52, addresses=("10.0.0.201",)),
        f.train("10.0.0.11", 0, 10, vrid=53, issues=("ttl",), ttl=1),
        c.train("10.0.0.12", 0, 10, vrid=53),
    )
    engine = run(adverts, end=60)
    kinds = {x.kind for x in engine.findings}
    assert {
        Kind.SPLIT_BRAIN,
        Kind.DUPLICATE_VRID,
        Kind.CARP_COLLISION,
        Kind.NO_MASTER,
        Kind.CONFIG_MISMATCH,
        Kind.INVALID_PACKET,
        Kind.PLAINTEXT_AUTH,
        Kind.NON_STANDARD_MAC,
        Kind.INTERVAL_DRIFT,
    } <= kinds
    text = json.dumps([x.to_dict() for x in engine.findings])
    text += json.dumps([s.to_dict() for s in engine.inventory()])
    text += json.dumps(engine.stats.to_dict())
    assert "topsecret" not in text
    assert all("\n" not in x.message for x in engine.findings)


def test_handover_between_clusters_with_disjoint_vips_is_not_a_failover() -> None:
    f = AdvertFactory()
    a = f.train(A, 0, 10, addresses=("10.0.0.100",))
    other = f.train("10.0.0.50", 10.5, 30, addresses=("10.0.0.200",))
    engine = run(capture(a, other), end=30.5)
    assert of_kind(engine, Kind.FAILOVER) == []
    (cm,) = of_kind(engine, Kind.CONFIG_MISMATCH)
    assert set(cm.details["fields"]) == {"addresses"}


def test_capture_ending_during_a_handover_settles_it() -> None:
    f = AdvertFactory()
    b = f.train(B, 0, 20.0, priority=100)
    a = f.train(A, 20.5, 23.0, priority=200)  # preempts; the capture ends 3 s later
    engine = run(capture(a, b), end=23.2)
    (fo,) = of_kind(engine, Kind.FAILOVER)
    assert (fo.details["from"], fo.details["to"], fo.details["cause"]) == (B, A, "preempted")
    router = next(iter(engine.routers.values()))
    assert [sp.src for sp in router.current_masters] == [A]


def test_priorities_at_the_handover_decide_preemption() -> None:
    # r1's tracker drops it below r2 (preempted), restores it (r1 preempts back), and drops
    # it again before r2's silence timer runs out: the move back is still a preemption.
    f = AdvertFactory()
    r1 = f.train(A, 0, 3, priority=150) + f.train(A, 4, 6, priority=90)
    r2 = f.train(B, 6.6, 11.7, priority=100)
    r1 += f.train(A, 12.1, 13.1, priority=150) + f.train(A, 14.1, 30, priority=90)
    engine = run(capture(r1, r2), end=30.5)
    causes = [(x.details["from"], x.details["cause"]) for x in of_kind(engine, Kind.FAILOVER)]
    assert causes == [(A, "preempted"), (B, "preempted")]
    back = of_kind(engine, Kind.FAILOVER)[1]
    assert (back.details["from_priority"], back.details["to_priority"]) == (100, 150)


def test_inventory_per_family_and_protocol() -> None:
    f = AdvertFactory()
    engine = run(
        capture(
            f.train(A, 0, 30, vrid=10),
            f.train("fe80::1", 0, 30, vrid=10),  # VRRPv3 over IPv6, same VRID: no conflict
            f.train("10.0.0.7", 0, 30, 1 + 50 / 256, vrid=20, proto="carp", advskew=50),
            f.train(B, 0, 30, vrid=30, priority=90),
            f.train("10.0.0.3", 10, 30, vrid=30, priority=80),  # split brain on VRID 30
        ),
        end=30.5,
    )
    (seg,) = engine.inventory()
    assert seg.vrids_in_use == {"carp/ipv4": [20], "vrrp/ipv4": [10, 30], "vrrp/ipv6": [10]}
    assert {10, 20, 30} & set(seg.free_vrids[4]) == set()
    # an IPv4 CARP vhid does not take the IPv6 VRRP VRID (other virtual MAC and group)
    assert 10 not in seg.free_vrids[6] and {20, 30} <= set(seg.free_vrids[6])
    by_key = {(r.vrid, r.family, r.proto): r for r in seg.routers}
    assert by_key[(30, 4, "vrrp")].masters == [B, "10.0.0.3"]
    carp = by_key[(20, 4, "carp")]
    assert carp.speakers[0].advskew == 50 and carp.speakers[0].priority is None
    assert by_key[(10, 6, "vrrp")].versions == [3]
    assert seg.speakers == 5
    assert {x.kind for x in engine.findings if x.severity >= Severity.WARNING} == {Kind.SPLIT_BRAIN}


def test_capture_ending_right_after_a_preemption_settles_it() -> None:
    f = AdvertFactory()
    b = f.train(B, 0, 20.0, priority=100)
    a = f.train(A, 20.4, 20.4, priority=200)  # one advert from the better node, then the end
    engine = run(capture(a, b), end=20.5)
    (fo,) = of_kind(engine, Kind.FAILOVER)
    assert (fo.details["from"], fo.details["to"], fo.details["cause"]) == (B, A, "preempted")
