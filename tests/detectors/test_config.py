"""config-mismatch (interval, auth, version, addresses) and checksum-form-mismatch."""

from __future__ import annotations

from tests.helpers.advertfactory import AdvertFactory, at, capture, of_kind, run
from vrrpscope.findings import Kind, Severity
from vrrpscope.model import FORM_MESSAGE_ONLY, FORM_PSEUDO
from vrrpscope.thresholds import Thresholds

A, B = "10.0.0.1", "10.0.0.2"


def _failover(first: dict, second: dict, **common) -> list:
    """A advertises 0-10 s, B takes over after it resigns (not concurrent)."""
    f = AdvertFactory(**common)
    a = f.train(A, 0, 10, priority=200, **first) + [f.advert(10.5, A, priority=0, **first)]
    b = f.train(B, 11.2, 40, priority=100, **second)
    return capture(a, b)


def test_interval_1_vs_3() -> None:
    engine = run(_failover({"interval": 1.0}, {"interval": 3.0}), end=40.5)
    (cm,) = of_kind(engine, Kind.CONFIG_MISMATCH)
    assert cm.severity == Severity.WARNING and cm.speakers == (A, B)
    assert cm.details["fields"] == {"interval": {A: 1.0, B: 3.0}}
    assert "advertisement interval mismatch" in cm.message
    assert cm.first_ts_ns == at(11.2)


def test_different_passwords_are_reported_masked() -> None:
    auth1 = {"auth_type": 1, "auth_data": b"secret12"}
    auth2 = {"auth_type": 1, "auth_data": b"hunter2\x00"}
    engine = run(_failover(auth1, auth2), end=40.5)
    (cm,) = of_kind(engine, Kind.CONFIG_MISMATCH)
    assert cm.details["fields"] == {"auth_data": {A: "********", B: "********"}}
    assert "receive an invalid passwd!" in cm.message
    text = repr([f.to_dict() for f in engine.findings])
    assert "secret12" not in text and "hunter2" not in text


def test_same_password_is_no_mismatch() -> None:
    auth = {"auth_type": 1, "auth_data": b"secret12"}
    engine = run(_failover(auth, auth), end=40.5)
    assert of_kind(engine, Kind.CONFIG_MISMATCH) == []


def test_auth_type_mismatch() -> None:
    engine = run(_failover({"auth_type": 1, "auth_data": b"pw"}, {"auth_type": 0}), end=40.5)
    (cm,) = of_kind(engine, Kind.CONFIG_MISMATCH)
    assert cm.details["fields"] == {"auth_type": {A: "simple", B: "none"}}


def test_v2_vs_v3() -> None:
    engine = run(_failover({"version": 2}, {"version": 3, "auth_type": None}), end=40.5)
    (cm,) = of_kind(engine, Kind.CONFIG_MISMATCH)
    assert set(cm.details["fields"]) == {"version", "auth_type"}
    assert cm.details["fields"]["version"] == {A: 2, B: 3}


def test_mismatch_closes_when_the_peer_is_reconfigured() -> None:
    f = AdvertFactory()
    adverts = capture(
        f.train(A, 0, 10, priority=200),
        [f.advert(10.5, A, priority=0)],
        f.train(B, 11.2, 20, priority=100, interval=3.0),
        f.train(B, 23, 40, priority=100, every=3.0, interval=1.0),
    )
    engine = run(adverts, end=40.5)
    (cm,) = of_kind(engine, Kind.CONFIG_MISMATCH)
    assert not cm.open and cm.last_ts_ns == at(23)


def test_checksum_form_mismatch_between_v3_peers() -> None:
    f = AdvertFactory(version=3, auth_type=None)
    a = f.train(A, 0, 10, priority=200, checksum_form=FORM_PSEUDO)
    a.append(f.advert(10.5, A, priority=0, checksum_form=FORM_PSEUDO))
    b = f.train(B, 11.2, 30, priority=100, checksum_form=FORM_MESSAGE_ONLY)
    engine = run(capture(a, b), end=30.5)
    (cs,) = of_kind(engine, Kind.CHECKSUM_FORM_MISMATCH)
    assert cs.severity == Severity.WARNING and cs.speakers == (A, B)
    assert cs.details["forms"] == {A: ["pseudo-header"], B: ["message-only"]}
    assert "v3_checksum_as_v2" in cs.message
    assert of_kind(engine, Kind.CONFIG_MISMATCH) == []


def test_same_checksum_form_is_fine() -> None:
    f = AdvertFactory(version=3, auth_type=None)
    adverts = capture(f.train(A, 0, 10, priority=200), f.train(B, 14, 30, priority=100))
    engine = run(adverts, end=30.5)
    assert of_kind(engine, Kind.CHECKSUM_FORM_MISMATCH) == []


def test_vrrpv3_interval_difference_is_not_called_a_drop() -> None:
    """RFC 5798: a v3 backup adopts the master's interval; keepalived keeps the advert."""
    engine = run(_failover({"interval": 1.0}, {"interval": 0.5}, version=3), end=40.5)
    (cm,) = of_kind(engine, Kind.CONFIG_MISMATCH)
    assert "adopt the master's interval" in cm.message
    assert "drops" not in cm.message


def test_at_the_findings_cap_a_flood_of_speakers_is_counted_not_paired(monkeypatch) -> None:
    """30 speakers on one VRID, each with a VIP of its own (each disagrees with every
    other), findings capped at 2 (so no more than 20 made): past that a new speaker's
    disagreements are only counted, no message made per pair (the work stays one cheap
    step per speaker), and a pair with a finding open still closes when its speakers
    come to agree."""
    import vrrpscope.detectors.config as config
    from vrrpscope.findings import HARD_CAP_FACTOR, FindingBook

    made = []
    real = config._message
    monkeypatch.setattr(config, "_message", lambda *a: made.append(a) or real(*a))
    every: list = []
    real_open = FindingBook.open
    monkeypatch.setattr(
        FindingBook, "open", lambda *a, **k: every.append(real_open(*a, **k)) or every[-1]
    )
    f = AdvertFactory()
    adverts = [
        f.advert(0.1 * n, f"10.0.1.{n}", addresses=[f"10.9.{n}.1"], priority=100)
        for n in range(1, 31)
    ]
    adverts.append(f.advert(5.0, "10.0.1.2", addresses=["10.9.1.1"], priority=100))
    engine = run(capture(adverts), end=6.0, thresholds=Thresholds(max_findings=2))
    assert len(engine.findings) == 2 + 1  # + the cap's own
    opened = [x for x in every if x is not None and x.kind == Kind.CONFIG_MISMATCH]
    assert 5 <= len(opened) < 2 * HARD_CAP_FACTOR
    # speaker n disagrees with the n - 1 before it: 435 pairs in all, few made
    assert engine._book.suppressed["config-mismatch"] >= 435 - 2 * HARD_CAP_FACTOR
    assert len(made) <= 2 * len(opened)  # messages: for the findings made (and updates), not 435
    # 10.0.1.2 now has 10.0.1.1's VIP: their finding, open, closes
    (pair,) = [x for x in opened if set(x.speakers) == {"10.0.1.1", "10.0.1.2"}]
    assert not pair.open and pair.last_ts_ns == at(5.0)
