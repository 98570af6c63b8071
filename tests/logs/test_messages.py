"""keepalived (1.x and 2.x wording), FRR vrrpd and ucarp messages as events."""

from __future__ import annotations

import pytest

from vrrpscope.logs import messages as M


@pytest.mark.parametrize(
    "text, kind, instance, details",
    [
        ("(VI_1) Entering MASTER STATE", M.STATE, "VI_1", {"state": "MASTER", "init": False}),
        ("VRRP_Instance(VI_1) Entering BACKUP STATE", M.STATE, "VI_1", {"state": "BACKUP"}),
        ("(VI_1) Entering BACKUP STATE (init)", M.STATE, "VI_1", {"init": True}),
        ("VRRP_Instance(VI_1) Transition to MASTER STATE", M.STATE, "VI_1", {"transition": True}),
        ("(VI_1) Receive advertisement timeout", M.ADVERT_TIMEOUT, "VI_1", {}),
        ("(VI_1) Backup received priority 0 advertisement", M.PRIORITY0_RECEIVED, "VI_1", {}),
        ("(VI_1) sent 0 priority", M.RESIGNED, "VI_1", {}),
        (
            "(VI_1) Master received advert from 198.18.1.2 with higher priority 150, ours 100",
            M.PREEMPTED,
            "VI_1",
            {"peer": "198.18.1.2", "priority": 150, "ours": 100},
        ),
        (
            "VRRP_Instance(VI_1) Received advert with higher priority 100, ours 98",
            M.PREEMPTED,
            "VI_1",
            {"priority": 100, "ours": 98},
        ),
        (
            "(swift) Master received advert from 10.0.0.2 with same priority 130 but higher IP "
            "address than ours",
            M.PREEMPTED,
            "swift",
            {"peer": "10.0.0.2", "same": True},
        ),
        (
            "(VI_1) received lower priority (101) advert from 10.255.0.2 - discarding",
            M.LOWER_PRIORITY,
            "VI_1",
            {"peer": "10.255.0.2", "priority": 101},
        ),
        (
            "(VI_1) Received advert from 198.18.1.9 with lower priority 50, ours 100, forcing "
            "new election",
            M.LOWER_PRIORITY,
            "VI_1",
            {"forcing_election": True},
        ),
        (
            "(VI_1) Changing effective priority from 101 to 111",
            M.PRIORITY_CHANGE,
            "VI_1",
            {"from": 101, "to": 111},
        ),
        ("(VI_1): entering FAULT state due to script chk", M.FAULT, "VI_1", {"script": "chk"}),
        (
            "(VI_1): entering FAULT state (interface eth0 down)",
            M.FAULT,
            "VI_1",
            {"reason": "interface", "interface": "eth0"},
        ),
        ("(VI_1) received an invalid passwd!", M.RECEIVE_ERROR, "VI_1", {"reason": "auth"}),
        ("(VI_1): received an invalid passwd!", M.RECEIVE_ERROR, "VI_1", {"reason": "auth"}),
        (
            "(VI_1) received an invalid passwd from 198.18.2.1",
            M.RECEIVE_ERROR,
            "VI_1",
            {"reason": "auth", "peer": "198.18.2.1"},
        ),
        (
            "(VI_1) ip address associated with VRID 51 not present in MASTER advert: 198.18.1.100",
            M.RECEIVE_ERROR,
            "VI_1",
            {"reason": "vip-mismatch", "vip": "198.18.1.100"},
        ),
        (
            "(VI_1) ip address associated with VRID 51 not present in MASTER advert : 10.0.0.9",
            M.RECEIVE_ERROR,
            "VI_1",
            {"reason": "vip-mismatch", "vip": "10.0.0.9"},
        ),
        (
            "(VI_1) expected 1 VIPs but received 2",
            M.RECEIVE_ERROR,
            "VI_1",
            {"reason": "vip-count", "want": 1, "got": 2},
        ),
        (
            "(VI_1) advertisement interval mismatch mine=1 sec rcv'd=2 sec",
            M.RECEIVE_ERROR,
            "VI_1",
            {"reason": "interval", "mine_s": 1, "received_s": 2},
        ),
        (
            "(VI_1) wrong version. Received 3 and expect 2",
            M.RECEIVE_ERROR,
            "VI_1",
            {"reason": "version", "got": 3},
        ),
        (
            "(VI_1) invalid TTL/HL. Received 64 and expect 255",
            M.RECEIVE_ERROR,
            "VI_1",
            {"reason": "ttl", "got": 64},
        ),
        ("(VI_1) Invalid VRRPv3 checksum", M.RECEIVE_ERROR, "VI_1", {"reason": "checksum"}),
        (
            "(VI_1) Expected multicast packet but received unicast packet",
            M.RECEIVE_ERROR,
            "VI_1",
            {"reason": "cast"},
        ),
        (
            "(VI_1) unicast source address 198.18.1.7 not a unicast peer",
            M.RECEIVE_ERROR,
            "VI_1",
            {"reason": "not-peer", "peer": "198.18.1.7"},
        ),
        (
            "(VI_1): send advert error 1 (Operation not permitted)",
            M.SEND_ERROR,
            "VI_1",
            {"errno": 1, "error": "Operation not permitted"},
        ),
        (
            "(VI_1) Cant send advert to 198.18.1.2 (Network is unreachable)",
            M.SEND_ERROR,
            "VI_1",
            {"peer": "198.18.1.2"},
        ),
        (
            "VRRP_Instance(VI_1) ignoring received advertisment...",
            M.RECEIVE_ERROR,
            "VI_1",
            {"reason": "bogus"},
        ),
        (
            "(VI_1) CONFIGURATION ERROR: local instance and a remote instance are both configured"
            " as address owner, please fix - reducing local priority",
            M.ADDRESS_OWNER,
            "VI_1",
            {},
        ),
        ("(VI_9) setting VIPs.", M.VIPS, "VI_9", {"action": "set"}),
    ],
)
def test_keepalived_instance_messages(text, kind, instance, details) -> None:
    said = M.keepalived(text)
    assert said is not None and said.kind == kind and said.instance == instance
    assert details.items() <= said.details.items()


def test_the_vrid_named_in_a_line_is_the_instances() -> None:
    said = M.keepalived("(VI_1) ip address associated with VRID 51 not present in MASTER advert: x")
    assert said is not None and said.vrid == 51


@pytest.mark.parametrize(
    "text, kind, details",
    [
        (
            "VRRP_Script(chk_haproxy) failed (exited with status 1)",
            M.SCRIPT,
            {"script": "chk_haproxy", "result": "failed", "status": 1},
        ),
        ("VRRP_Script(chk) succeeded", M.SCRIPT, {"result": "succeeded"}),
        ("VRRP_Script(chk_http_port) timed_out", M.SCRIPT, {"result": "timed_out"}),
        ("A thread timer expired 12.886870 seconds ago", M.TIMER, {"late_s": 12.88687}),
        ("bogus VRRP packet received on eth0 !!!", M.RECEIVE_ERROR, {"reason": "bogus"}),
        (
            "ip address associated with VRID not present in received packet : 10.174.233.253",
            M.RECEIVE_ERROR,
            {"reason": "vip-mismatch", "vip": "10.174.233.253"},
        ),
        ("Sending gratuitous ARP on v0 for 198.18.50.100", M.GARP, {"vip": "198.18.50.100"}),
        ("Stopping", M.DAEMON, {"action": "stop"}),
    ],
)
def test_keepalived_global_messages(text, kind, details) -> None:
    said = M.keepalived(text)
    assert said is not None and said.kind == kind and said.instance is None
    assert details.items() <= said.details.items()


@pytest.mark.parametrize(
    "text",
    [
        "(VI_1) Sending/queueing gratuitous ARPs on eth0 for 198.18.1.100 and more",
        "Registering Kernel netlink reflector",
        "VRRP sockpool: [ifindex(  3), family(IPv4), proto(112), fd(13,14)]",
        "(VI_1) removing protocol VIPs.",
    ],
)
def test_keepalived_lines_that_are_no_state_are_read_or_skipped_cleanly(text) -> None:
    said = M.keepalived(text)
    assert said is None or said.kind in (M.GARP, M.VIPS)


def test_frr_vrrpd_state_changes_with_and_without_a_message_id() -> None:
    for text in (
        "[CORE] [VRID 51] [IPv4] Backup -> Master",
        "[ZXR3P-AF3P8] [CORE] [VRID 51] [IPv4] Backup -> Master",
    ):
        said = M.frr(text)
        assert said is not None and said.kind == M.STATE and said.vrid == 51
        assert said.family == 4 and said.details == {"state": "MASTER", "from": "BACKUP"}
    timer = M.frr("[CORE] [VRID 7] [IPv6] Master_Down_Timer expired")
    assert timer is not None and timer.kind == M.ADVERT_TIMEOUT and timer.family == 6
    assert M.frr("[CORE] [VRID 7] [IPv4] Initialize -> Backup").details["state"] == "BACKUP"


def test_ucarp_messages() -> None:
    said = M.ucarp("[WARNING] Switching to state: MASTER")
    assert said is not None and said.kind == M.STATE and said.details["state"] == "MASTER"
    bad = M.ucarp("[WARNING] Bad digest - md2=[1234...] md=[5678...] - Check vhid, password")
    assert bad is not None and bad.details["reason"] == "auth"
    assert M.any_daemon("[WARNING] Switching to state: BACKUP") is not None
    assert M.any_daemon("Switching to state: BACKUP") is None  # unmarked: not claimed


# vrrpd 8.4's own format strings (``strings /usr/lib/frr/vrrpd``), filled in
FRR_LINES = [
    (
        "[TE0EM-RN6HQ] [CORE] [VRID 51] [IPv4] Received advertisement from 198.18.1.2 w/ "
        "priority 200; switching to Backup",
        M.PREEMPTED,
        {"peer": "198.18.1.2", "priority": 200},
    ),
    (
        "[CORE] [VRID 51] [IPv4] Discarding advertisement from 198.18.1.1 (100 <= 200 & "
        "198.18.1.1 <= 198.18.1.2)",
        M.LOWER_PRIORITY,
        {"peer": "198.18.1.1", "priority": 100, "ours": 200},
    ),
    (
        "[CORE] [VRID 51] [IPv4] Discarding advertisement from 198.18.1.1 (100 < 200 & "
        "preempt = true)",
        M.LOWER_PRIORITY,
        {"peer": "198.18.1.1", "priority": 100, "ours": 200},
    ),
    (
        "[CORE] [VRID 51] [IPv4] Datagram invalid: Received advertisement with advertisement "
        "interval 2 unequal to our configured value 1",
        M.RECEIVE_ERROR,
        {"reason": "interval", "received_s": 2, "mine_s": 1},
    ),
    (
        "[CORE] [VRID 51] [IPv4] Datagram has 2 addresses, but this VRRP instance has 1",
        M.RECEIVE_ERROR,
        {"reason": "vip-count", "got": 2, "want": 1},
    ),
    (
        "[CORE] [VRID 51] [IPv4] Datagram invalid: Bad VRRP checksum 1234; should be abcd",
        M.RECEIVE_ERROR,
        {"reason": "checksum"},
    ),
    (
        "[CORE] [VRID 51] [IPv4] Datagram invalid: IPv4 TTL is 64; should be 255",
        M.RECEIVE_ERROR,
        {"reason": "ttl"},
    ),
    (
        "[CORE] [VRID 51] [IPv6] Datagram invalid: IPv6 Hop Limit is 1; should be 255",
        M.RECEIVE_ERROR,
        {"reason": "ttl"},
    ),
    (
        "[CORE] [VRID 51] [IPv4] Datagram invalid: Bad version 4",
        M.RECEIVE_ERROR,
        {"reason": "version"},
    ),
    (
        "[CORE] [VRID 51] [IPv4] Datagram invalid: Bad authentication type 1",
        M.RECEIVE_ERROR,
        {"reason": "auth-type"},
    ),
    (
        "[CORE] [VRID 51] [IPv4] Datagram invalid: IPv4 packet length field does not match # "
        "received bytes; 40!= 36",
        M.RECEIVE_ERROR,
        {"reason": "length"},
    ),
    (
        "[CORE] [VRID 51] [IPv4] Datagram invalid: Advertisement contains VRID 52 which does "
        "not match our instance",
        M.RECEIVE_ERROR,
        {"reason": "other", "got_vrid": 52},
    ),
    (
        "[CORE] [VRID 51] [IPv4] Datagram invalid: Received advertisement but we are the "
        "address owner",
        M.ADDRESS_OWNER,
        {},
    ),
    (
        "[CORE] [VRID 51] [IPv4] Failed to send VRRP Advertisement: Operation not permitted",
        M.SEND_ERROR,
        {"error": "Operation not permitted"},
    ),
    (
        "[CORE] [VRID 51] Interface eth0 down",
        M.FAULT,
        {"reason": "interface", "interface": "eth0"},
    ),
    (
        "[W23ZH-NY264] [CORE] [VRID 51] [IPv4] Master -> Initialize",
        M.STATE,
        {"state": "INIT", "from": "MASTER", "resigned": True},
    ),
    ("[R3SM7-1JZFQ] [CORE] [VRID 51] [IPv4] 'Shutdown' event", M.DAEMON, {"action": "stop"}),
]


@pytest.mark.parametrize(("text", "kind", "details"), FRR_LINES)
def test_frr_vrrpd_messages(text: str, kind: str, details: dict) -> None:
    said = M.frr(text)
    assert said is not None and said.daemon == "frr" and said.vrid == 51
    assert (said.kind, said.details) == (kind, details)


@pytest.mark.parametrize(
    "text",
    [
        "[P485H-A79BW] [CORE] [VRID 51] [IPv6] Refusing to start Virtual Router: No VRRP interface",
        "[MZG9J-C7D80] [CORE] [VRID 51] [IPv4] Interface: None (no interface found w/ MAC "
        "00:00:5e:00:01:33)",
        "[HEH72-5BR66] [CORE] [VRID 51] [IPv4] Interface: vrrp4-2-51",
        "[CORE] [VRID 51] [IPv4] Bound Rx socket to VRRP multicast group",
    ],
)
def test_frr_lines_that_say_nothing_of_the_election_are_no_event(text: str) -> None:
    assert M.frr(text) is None
