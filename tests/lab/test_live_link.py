"""`vrrpscope live` when its interface flaps or is deleted (own namespace and veth, root).

Safety: one namespace of our own (``vsl<pid><hex>-link``, removed by
:func:`tests.lab.netlab.cleanup_stale` if this process dies) holds a veth pair ``va``/``vb``
with 198.18.200.0/24 addresses; a bounded sender (at most 300 adverts, 30 s) writes VRRP
adverts on ``vb`` and vrrpscope listens on ``va``. Nothing touches the caller's namespace.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from tests.lab.live_helpers import ROOT, LiveRun, live_env
from tests.lab.netlab import _destroy_namespace, _run, new_tag

pytestmark = [pytest.mark.lab, pytest.mark.usefixtures("lab_ok")]

VRID = 77
SENDER = r"""
import socket, sys, time
from tests.helpers import packets as P
iface, count, pause = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
frame = P.ethernet(P.ipv4(P.vrrp_v2(77, 120, ["198.18.200.100"]), src="198.18.200.2"))
sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
sock.bind((iface, 0))
for _ in range(count):
    try:
        sock.send(frame)
    except OSError:  # the peer is down: adverts are lost, like on a real link
        pass
    time.sleep(pause)
"""


@pytest.fixture
def veth_ns() -> Iterator[str]:
    ns = f"{new_tag()}-link"
    _run(["ip", "netns", "add", ns])
    try:
        ip = ["ip", "-n", ns]
        _run([*ip, "link", "set", "lo", "up"])
        _run([*ip, "link", "add", "va", "type", "veth", "peer", "name", "vb"])
        _run([*ip, "addr", "add", "198.18.200.1/24", "dev", "va"])
        _run([*ip, "addr", "add", "198.18.200.2/24", "dev", "vb"])
        _run([*ip, "link", "set", "va", "up"])
        _run([*ip, "link", "set", "vb", "up"])
        yield ns
    finally:
        _destroy_namespace(ns)


def _sender(ns: str, count: int = 300, pause: float = 0.1) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        ["ip", "netns", "exec", ns, "timeout", "-k", "2", "35", sys.executable, "-c", SENDER]
        + ["vb", str(count), str(pause)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env=live_env(),
        start_new_session=True,
    )


def _adverts_seen(run: LiveRun, after: float = 0.0) -> int:
    """The router's advert count in the latest snapshot that arrived after ``after``."""
    counts = [
        o["adverts"]
        for t, o in run.objects()
        if t >= after and o.get("type") == "router" and o.get("vrid") == VRID and "ts" in o
    ]
    return counts[-1] if counts else 0


def test_flap_is_survived_and_deletion_ends_with_exit_5(veth_ns: str) -> None:
    ip = ["ip", "-n", veth_ns, "link", "set", "va"]
    sender = _sender(veth_ns)
    run = LiveRun.start(veth_ns, ["va", "--json", "--snapshot-interval", "0.3"], duration=30)
    try:
        assert run.wait_for(lambda: _adverts_seen(run) >= 5, 10), run.stderr
        _run([*ip, "down"])
        time.sleep(2.0)
        before_up = _adverts_seen(run)
        _run([*ip, "up"])
        t_up = time.time()
        # adverts are counted again once va is back (the socket was never reopened)
        assert run.wait_for(lambda: _adverts_seen(run, t_up) >= before_up + 5, 10), run.objects()
        assert run.proc.poll() is None, "live died across the flap"
        _run(["ip", "-n", veth_ns, "link", "del", "va"])  # takes vb with it
        rc = run.finish(15)
    finally:
        run.kill()
        run.finish(5)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(sender.pid, signal.SIGKILL)
        sender.wait(5)
    err = run.stderr
    assert rc == 5, err
    assert "Traceback" not in err
    assert err.count("warning: va went down") == 1, err  # the flap; the deletion: error
    errors = [line for line in err.splitlines() if line.startswith("vrrpscope: error:")]
    assert errors == [
        "vrrpscope: error: va: the interface was deleted during the capture; the summary "
        "covers the capture up to then"
    ], err
    summary = run.summary()
    assert summary is not None, "no summary after the deletion"
    cap = summary["capture"]
    assert cap["stopped_by"] == "interface-gone"
    assert cap["link_downs"] == 1, cap
    assert 0 < cap["link_down_s"] < 30, cap  # counted (its length is the scheduler's)
    assert summary["adverts"] >= before_up + 5
    assert "went down 1 time(s)" in err
