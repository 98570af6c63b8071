"""split-brain and duplicate-vrid: two masters at once, but not a brief handover."""

from __future__ import annotations

import pytest

from tests.helpers.advertfactory import AdvertFactory, at, capture, of_kind, run, serious
from vrrpscope.engine.core import Engine
from vrrpscope.findings import Kind, Severity
from vrrpscope.model import ISSUE_TTL, AddressClaim

A, B = "10.0.0.1", "10.0.0.2"
MDI_100 = 3 + 156 / 256  # VRRPv2, 1 s interval, priority 100


def test_split_brain_opens_after_master_down_interval_and_closes_when_one_stops() -> None:
    f = AdvertFactory()
    a = f.train(A, 0, 60, priority=200)
    b = f.train(B, 10, 30, priority=100)  # backup stops hearing A (INPUT drop) for 20 s
    engine = run(capture(a, b), end=60.5)
    (sb,) = of_kind(engine, Kind.SPLIT_BRAIN)
    assert sb.severity == Severity.CRITICAL
    assert sb.speakers == (A, B) and (sb.vrid, sb.segment, sb.family) == (51, "eth0", 4)
    assert sb.first_ts_ns == at(10) and sb.last_ts_ns == at(30) and not sb.open
    assert sb.details["concurrent_s"] == pytest.approx(20.0)
    assert sb.details["limit_s"] == pytest.approx(MDI_100, abs=1e-3)
    assert "split brain" in sb.message and "INPUT -p vrrp -j DROP" in sb.message
    assert of_kind(engine, Kind.DUPLICATE_VRID) == []
    assert of_kind(engine, Kind.FAILOVER) == []  # A stayed master throughout
    assert {k for k, _ in serious(engine)} == {"split-brain"}


def test_split_brain_event_opens_once_overlap_exceeds_master_down() -> None:
    f = AdvertFactory()
    opened: list[int] = []
    engine = Engine(
        on_event=lambda e: (
            opened.append(e.finding.last_ts_ns)
            if e.action == "open" and e.finding.kind == Kind.SPLIT_BRAIN
            else None
        )
    )
    for adv in capture(f.train(A, 0, 30, priority=200), f.train(B, 10, 30)):
        engine.feed(adv)
    assert opened == [at(14)]  # first advert with overlap > 3.61 s (A's 14 s advert)


def test_brief_overlap_shorter_than_master_down_is_not_split_brain() -> None:
    f = AdvertFactory()
    a = f.train(A, 0, 60, priority=200)
    b = f.train(B, 10, 13, priority=100)  # 3 s of overlap < 3.61 s
    engine = run(capture(a, b), end=60.5)
    assert of_kind(engine, Kind.SPLIT_BRAIN) == []


def test_preemption_overlap_is_not_split_brain() -> None:
    f = AdvertFactory()
    b = f.train(B, 0, 21, priority=100)
    a = f.train(A, 20.4, 60, priority=200)
    engine = run(capture(a, b), end=60.5)
    assert of_kind(engine, Kind.SPLIT_BRAIN) == [] and of_kind(engine, Kind.DUPLICATE_VRID) == []
    (fo,) = of_kind(engine, Kind.FAILOVER)
    assert fo.details["cause"] == "preempted"


def test_duplicate_vrid_when_address_sets_differ() -> None:
    f = AdvertFactory()
    a = f.train(A, 0, 30, addresses=("10.0.0.100",))
    other = f.train("10.0.0.50", 5, 30, addresses=("10.0.0.200", "10.0.0.201"))
    engine = run(capture(a, other), end=30.5)
    (dup,) = of_kind(engine, Kind.DUPLICATE_VRID)
    assert dup.severity == Severity.CRITICAL and dup.speakers == (A, "10.0.0.50")
    assert dup.first_ts_ns == at(5) and dup.last_ts_ns == at(30)
    assert "ip address associated with VRID not present in received packet" in dup.message
    addrs = {s["src"]: s["addresses"] for s in dup.details["speakers"]}
    assert addrs == {A: ["10.0.0.100"], "10.0.0.50": ["10.0.0.200", "10.0.0.201"]}
    assert of_kind(engine, Kind.SPLIT_BRAIN) == []
    (cm,) = of_kind(engine, Kind.CONFIG_MISMATCH)
    assert set(cm.details["fields"]) == {"address_count"}


def test_gratuitous_arp_from_two_macs_confirms_split_brain() -> None:
    f = AdvertFactory()
    engine = Engine()
    engine.feed_claim(AddressClaim(at(0.1), 1, "eth0", "10.0.0.100", "52:54:00:00:00:0a"))
    a = f.train(A, 0, 20, priority=200, src_mac="52:54:00:00:00:0a")
    b = f.train(B, 5, 20, src_mac="52:54:00:00:00:0b")
    for adv in capture(a, b):
        if adv.ts_ns == at(6):
            engine.feed_claim(AddressClaim(at(5.1), 99, "eth0", "10.0.0.100", "52:54:00:00:00:0b"))
        engine.feed(adv)
    engine.finish(at(20.5))
    (sb,) = of_kind(engine, Kind.SPLIT_BRAIN)
    assert sb.details["arp_confirmed"] == {"10.0.0.100": ["52:54:00:00:00:0a", "52:54:00:00:00:0b"]}
    assert "Confirmed" in sb.message and 99 in sb.frames


def test_claims_arriving_during_split_brain_update_it() -> None:
    f = AdvertFactory()
    engine = Engine()
    for adv in capture(f.train(A, 0, 20, priority=200), f.train(B, 5, 20)):
        engine.feed(adv)
    engine.feed_claim(AddressClaim(at(20.1), 1, "eth0", "10.0.0.100", "52:54:00:00:00:0a"))
    (sb,) = of_kind(engine, Kind.SPLIT_BRAIN)
    assert sb.details["arp_confirmed"] == {}
    engine.feed_claim(AddressClaim(at(20.2), 2, "eth0", "10.0.0.100", "52:54:00:00:00:0b"))
    assert sb.details["arp_confirmed"] == {"10.0.0.100": ["52:54:00:00:00:0a", "52:54:00:00:00:0b"]}


def test_invalid_adverts_never_make_a_second_master() -> None:
    f = AdvertFactory()
    a = f.train(A, 0, 30, priority=200)
    b = f.train(B, 5, 30, issues=(ISSUE_TTL,), ttl=254)  # discarded by receivers
    engine = run(capture(a, b), end=30.5)
    assert of_kind(engine, Kind.SPLIT_BRAIN) == []
    (bad,) = of_kind(engine, Kind.INVALID_PACKET)
    assert bad.details["count"] == 26
    router = next(iter(engine.routers.values()))
    assert [sp.src for sp in router.current_masters] == [A]


def test_both_masters_stopping_together_is_no_failover() -> None:
    f = AdvertFactory()
    a = f.train(A, 0, 30, priority=200)
    b = f.train(B, 5, 30, priority=100, interval=2.0, every=1.0)  # longer silence timer
    engine = run(capture(a, b), end=60)
    assert of_kind(engine, Kind.FAILOVER) == []
    (sb,) = of_kind(engine, Kind.SPLIT_BRAIN)
    assert sb.last_ts_ns == at(30)
    (nm,) = of_kind(engine, Kind.NO_MASTER)
    assert nm.speakers == (B,) and nm.first_ts_ns == at(30)


def test_alternating_masters_that_reject_each_other_are_split_brain() -> None:
    # keepalived masters that drop each other's adverts (say, different passwords) reset
    # their advert timers on each dropped advert and take turns on the wire: the
    # lower-priority one takes over within an interval, which no healthy backup does.
    f = AdvertFactory()
    r3 = f.train(A, 0, 4, priority=150) + f.train(A, 9, 12, priority=150)
    r4 = f.train(B, 5, 8, priority=100) + f.train(B, 13, 16, priority=100)
    engine = run(capture(r3, r4), end=16.5)
    (sb,) = of_kind(engine, Kind.SPLIT_BRAIN)
    assert sb.speakers == (A, B) and sb.details["evidence"] == "alternation"
    assert sb.first_ts_ns == at(4)  # r3's last advert before r4 first took over
    assert sb.last_ts_ns >= at(9) and sb.details["handovers"] >= 2
    assert "take over from each other within an advert interval" in sb.message


def test_one_fast_takeover_alone_is_not_split_brain() -> None:
    f = AdvertFactory()
    # the master's priority-0 advert was lost by the capture: the backup seems to take
    # over within an interval, once, and the old master never comes back
    adverts = capture(f.train(A, 0, 10, priority=200), f.train(B, 10.6, 40, priority=100))
    engine = run(adverts, end=40.5)
    assert of_kind(engine, Kind.SPLIT_BRAIN) == []
    (fo,) = of_kind(engine, Kind.FAILOVER)
    assert fo.details["cause"] == "unknown" and fo.details["takeover_s"] == pytest.approx(0.6)


def test_vip_claimed_by_a_silent_node_while_another_advertises_is_split_brain() -> None:
    """keepalived masters that reject each other's adverts: one may never advertise again
    (its timer is reset on every dropped advert) but still sends its gratuitous ARPs."""
    f = AdvertFactory()
    engine = Engine()
    a = f.train(A, 0, 20, priority=150, src_mac="52:54:00:00:00:0a")
    b = f.train(B, 0.3, 0.3, priority=150, src_mac="52:54:00:00:00:0b")  # one advert only
    for adv in capture(a, b):
        engine.feed(adv)
        if adv.ts_ns == at(5):  # B's delayed gratuitous ARP burst, 5 s after it became master
            engine.feed_claim(AddressClaim(at(5.3), 77, "eth0", "10.0.0.100", "52:54:00:00:00:0b"))
    engine.finish(at(20.5))
    (sb,) = of_kind(engine, Kind.SPLIT_BRAIN)
    assert sb.details["evidence"] == "address-claims"
    assert set(sb.speakers) == {A, B} and 77 in sb.frames
    assert sb.first_ts_ns == at(0.3)  # B's last advert: it has been master since


def _claim_at_4_8_by_a(adverts: list) -> Engine:
    """Feed `adverts` with A's gratuitous ARP for the VIP at 4.8 s (frame 99)."""
    engine = Engine()
    for adv in adverts:
        if adv.ts_ns == at(4.9):
            engine.feed_claim(AddressClaim(at(4.8), 99, "eth0", "10.0.0.100", "52:54:00:00:00:0a"))
        engine.feed(adv)
    engine.finish(at(13.5))
    return engine


def test_silent_master_claiming_the_vip_then_advertising_once_is_split_brain() -> None:
    """A keepalived master that rejects its peer's adverts falls silent (its timer is reset
    on each) but its delayed gratuitous ARPs still claim the VIP; when it advertises again
    a while later, that advert must not hide the silence it claimed the VIP in."""
    f = AdvertFactory()
    a = f.train(A, 0, 2, priority=150, src_mac="52:54:00:00:00:0a")
    a += [f.advert(6.5, A, priority=150, src_mac="52:54:00:00:00:0a")]
    b = f.train(B, 0.9, 12.9, priority=100, src_mac="52:54:00:00:00:0b")
    engine = _claim_at_4_8_by_a(capture(a, b))
    (sb,) = of_kind(engine, Kind.SPLIT_BRAIN)
    assert sb.details["evidence"] == "address-claims" and sb.details["claimed_by"].endswith("0a")
    assert set(sb.speakers) == {A, B} and 99 in sb.frames
    assert sb.first_ts_ns == at(2) and sb.details["silent_since_ts"] == at(2) / 1e9


def test_claim_followed_by_the_claimants_advert_within_the_window_is_a_takeover() -> None:
    f = AdvertFactory()
    a = f.train(A, 0, 2, priority=150, src_mac="52:54:00:00:00:0a")
    a += f.train(A, 5.5, 12.5, priority=150, src_mac="52:54:00:00:00:0a")  # back 0.7 s after
    b = f.train(B, 0.9, 5.9, priority=100, src_mac="52:54:00:00:00:0b")
    engine = _claim_at_4_8_by_a(capture(a, b))
    assert [f.details["evidence"] for f in of_kind(engine, Kind.SPLIT_BRAIN)] != ["address-claims"]
    assert all(99 not in f.frames for f in of_kind(engine, Kind.SPLIT_BRAIN))


def test_lower_priority_master_advertising_over_better_adverts_again_is_split_brain() -> None:
    # Two keepalived masters rejecting each other: the better one's timer is reset by
    # every dropped advert of the other, so it only gets an advert out now and then, and
    # its episodes never overlap the other's for a Master_Down_Interval. The other goes on
    # advertising a second after each of them: it did not take them.
    f = AdvertFactory()
    a = f.train(A, 0, 3, priority=150) + [f.advert(9.5, A, priority=150)]
    a += [f.advert(15.5, A, priority=150)]
    b = f.train(B, 5, 20, priority=100)
    engine = run(capture(a, b), end=20.5)
    (sb,) = of_kind(engine, Kind.SPLIT_BRAIN)
    assert sb.speakers == (A, B) and sb.details["evidence"] == "ignored"
    assert sb.first_ts_ns == at(9.5) and sb.last_ts_ns >= at(16)
    assert f"{B} goes on advertising after adverts of {A}, which outrank it" in sb.message


def test_adverts_crossing_a_preemption_again_and_again_are_not_split_brain() -> None:
    # The better router comes and goes (a flapping track script, preempt on): each time
    # the master's advert crosses its first one, or was captured on a node whose clock is
    # a few hundred milliseconds off; then the master yields.
    f = AdvertFactory()
    b = f.train(B, 0.2, 10.2) + f.train(B, 18.2, 30.2) + f.train(B, 35.1, 50.1)
    a = f.train(A, 10, 14, priority=200) + f.train(A, 30, 34, priority=200)
    a += [f.advert(34.5, A, priority=0)]  # B's adverts 0.2 s after A's first ones
    engine = run(capture(a, b), end=50.5)
    assert of_kind(engine, Kind.SPLIT_BRAIN) == []


ALPHA = {"auth_type": 1, "auth_data": b"alpha\x00\x00\x00"}
BRAVO = {"auth_type": 1, "auth_data": b"bravo\x00\x00\x00"}


def test_peers_rejecting_each_other_both_master_when_the_worse_starts_alongside() -> None:
    # keepalived's config-mismatch race, as a fresh lab run showed it: r4 (worse, another
    # password) goes master 0.4 s after r3's first advert and sends one advert, then is
    # silenced by r3's adverts it drops (its timer reset on each); 5 s later, again one.
    f = AdvertFactory()
    r3 = f.train(A, 3.8, 16.2, priority=150, **ALPHA)
    r4 = [f.advert(4.2, B, priority=100, **BRAVO), f.advert(9.25, B, priority=100, **BRAVO)]
    engine = run(capture(r3, r4), end=16.5)
    (sb,) = of_kind(engine, Kind.SPLIT_BRAIN)
    assert sb.speakers == (A, B) and sb.details["evidence"] == "rejected-adverts"
    assert sb.first_ts_ns == at(3.8) and sb.last_ts_ns == at(9.25)
    assert f"{B} started advertising 0.40 s after an advert of {A}" in sb.message
    assert "drop each other's adverts" in sb.message


def test_worse_speaker_starting_alongside_a_peer_that_agrees_is_not_split_brain() -> None:
    f = AdvertFactory()  # the same moments, one password: r4 took r3's next advert
    r3 = f.train(A, 3.8, 16.2, priority=150, **ALPHA)
    r4 = [f.advert(4.2, B, priority=100, **ALPHA), f.advert(9.25, B, priority=100, **ALPHA)]
    engine = run(capture(r3, r4), end=16.5)
    assert of_kind(engine, Kind.SPLIT_BRAIN) == []


def test_vrrpv3_interval_difference_is_no_rejection() -> None:
    # RFC 5798 6.4.2: a VRRPv3 backup adopts the master's interval, drops nothing
    f = AdvertFactory(version=3)
    a = f.train(A, 0, 20, priority=150, interval=1.0)
    b = [f.advert(0.4, B, priority=100, interval=2.0)]
    engine = run(capture(a, b), end=20.5)
    assert of_kind(engine, Kind.CONFIG_MISMATCH) and of_kind(engine, Kind.SPLIT_BRAIN) == []


def test_gratuitous_arp_of_a_new_master_at_takeover_is_not_split_brain() -> None:
    f = AdvertFactory()
    engine = Engine()
    a = f.train(A, 0, 10, priority=200, src_mac="52:54:00:00:00:0a")
    b = f.train(B, 13.7, 30, src_mac="52:54:00:00:00:0b")  # took over after A went silent
    for adv in capture(a, b):
        if adv.ts_ns == at(13.7):
            engine.feed_claim(AddressClaim(at(13.69), 5, "eth0", "10.0.0.100", "52:54:00:00:00:0b"))
        engine.feed(adv)
    engine.finish(at(30.5))
    assert of_kind(engine, Kind.SPLIT_BRAIN) == []


def test_duplicate_vrid_names_free_vrids_not_make_them_agree() -> None:
    f = AdvertFactory()
    # two clusters on VRID 51; VRIDs 1-50 are taken by other routers on the segment
    others = [
        f.advert(0.01 * v, "10.0.9.1", vrid=v, addresses=(f"10.0.9.{v}",)) for v in range(1, 51)
    ]
    a = f.train(A, 0, 30, vrid=51, addresses=("10.0.0.100",), auth_type=1, auth_data=b"one")
    b = f.train(
        "10.0.0.50", 5.1, 30, vrid=51, addresses=("10.0.0.200",), auth_type=1, auth_data=b"two"
    )
    engine = run(capture(others, a, b), end=30.5)
    (dup,) = of_kind(engine, Kind.DUPLICATE_VRID)
    assert "make them agree" not in dup.message
    assert "free VRID: 52-255 are free for IPv4" in dup.message


def test_backup_answered_by_its_better_master_at_once_is_no_master_at_the_end() -> None:
    f = AdvertFactory()
    a = f.train(A, 0, 19, priority=150)  # its last advert 1.5 s (< settle) after B's
    b = [f.advert(17.5, B, priority=100)]  # a backup's one advert, its master 0.2 ms later
    a += [f.advert(17.5002, A, priority=150)]
    engine = run(capture(sorted(a, key=lambda x: x.ts_ns), b), end=19.2)
    (router,) = engine.routers.values()
    assert [sp.src for sp in router.active.values()] == [A]


def test_two_address_owners_are_named_as_the_cause(tmp_path) -> None:
    """Both nodes advertise priority 255 (each configured as the address owner): the split
    brain says so, names the real owner (its own address is the VIP) and is the same on
    both routes; a split brain at ordinary priorities does not."""
    from tests.helpers.advertfactory import write_pcap
    from tests.helpers.routes import assert_same

    f = AdvertFactory()
    owner = f.train("10.0.0.1", 0, 30, priority=255, addresses=("10.0.0.1",))
    claimer = f.train("10.0.0.2", 10.3, 30, priority=255, addresses=("10.0.0.1",))
    (split,) = of_kind(run(capture(owner, claimer), end=31), "split-brain")
    assert split.details["two_owners"] is True
    assert "Both advertise priority 255" in split.message
    assert "(10.0.0.1 here): give the other a lower priority" in split.message
    analysis = assert_same([str(write_pcap(tmp_path / "owners.pcap", capture(owner, claimer)))])
    assert analysis is not None
    (wire,) = [x for x in analysis.findings if x.kind == "split-brain"]
    assert wire.details["two_owners"] is True and "(10.0.0.1 here)" in wire.message

    master = f.train("10.0.0.1", 0, 30, priority=150, addresses=("10.0.0.1",))
    backup = f.train("10.0.0.2", 10.3, 30, priority=100, addresses=("10.0.0.1",))
    (plain,) = of_kind(run(capture(master, backup), end=31), "split-brain")
    assert "two_owners" not in plain.details
    assert "They do not hear each other" in plain.message
