"""The fast route with the decode in a second process gives what the one-process route gives."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench import generate
from tests.helpers.routes import _state
from vrrpscope import analysis
from vrrpscope.analysis import analyze_files
from vrrpscope.columnar.feed import FeedDecoder
from vrrpscope.errors import InputError
from vrrpscope.parallel import MIN_BYTES, ForkedPlans, can_fork
from vrrpscope.thresholds import Thresholds


def _same(path: str) -> analysis.Analysis:
    alone = analyze_files([path], parallel=False)
    forked = analyze_files([path], parallel=True)
    assert _state(forked) == _state(alone)
    assert forked.stats == alone.stats and forked.damage == alone.damage
    return forked


@pytest.mark.parametrize("block", [1 << 22, 1 << 15])
def test_same_as_one_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block: int) -> None:
    path = str(tmp_path / "gen.pcap")
    generate.write(path, 20000, seed=6)
    monkeypatch.setattr(analysis, "FAST_BLOCK", block)
    result = _same(path)
    assert result.stats.adverts > 15000 and result.findings


def test_same_on_pcapng_and_damage(tmp_path: Path) -> None:
    path = tmp_path / "gen.pcapng"
    generate.write(str(path), 6000, seed=2, fmt="pcapng", link="sll2", vlan=True)
    _same(str(path))
    cut = tmp_path / "cut.pcap"
    generate.write(str(cut), 6000, seed=2)
    data = cut.read_bytes()
    cut.write_bytes(data[: len(data) * 2 // 3])  # a truncated last record
    result = _same(str(cut))
    assert result.damage


def test_child_errors_are_raised_in_the_parent(tmp_path: Path) -> None:
    text = tmp_path / "notes.pcap"
    text.write_text("not a capture\n")
    with pytest.raises(InputError) as alone:
        analyze_files([str(text)], parallel=False)
    with pytest.raises(InputError) as forked:
        analyze_files([str(text)], parallel=True)
    assert str(forked.value) == str(alone.value)
    assert forked.value.exit_code == alone.value.exit_code


def test_child_is_reaped_when_the_parent_stops(tmp_path: Path) -> None:
    path = str(tmp_path / "gen.pcap")
    generate.write(path, 20000, seed=6)
    plans = iter(ForkedPlans(FeedDecoder([path], 1 << 15), Thresholds()))
    next(plans)
    plans.close()  # the parent stops reading: the child is killed and waited for
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)


def test_only_big_single_files_fork(tmp_path: Path) -> None:
    small = tmp_path / "small.pcap"
    generate.write(str(small), 1000, seed=1)
    assert not can_fork(FeedDecoder([str(small)]))
    assert small.stat().st_size < MIN_BYTES


def test_child_is_reaped_when_the_parent_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = str(tmp_path / "gen.pcap")
    generate.write(path, 120_000, seed=6)

    def stop(_run: object) -> None:
        raise RuntimeError("stop")

    with pytest.raises(RuntimeError) as kept:  # the traceback keeps the frames alive
        analyze_files([path], parallel=True, on_progress=stop)
    assert str(kept.value) == "stop"
    with pytest.raises(ChildProcessError):  # no child left, not even a zombie
        os.waitpid(-1, os.WNOHANG)


def test_pipe_is_widened() -> None:
    import fcntl

    from vrrpscope.parallel import F_SETPIPE_SZ, _widen, pipe_size_wanted

    wanted = pipe_size_wanted()
    assert wanted is not None, "/proc/sys/fs/pipe-max-size: the tool runs on Linux"
    cap = min(int(Path("/proc/sys/fs/pipe-max-size").read_text()), 16 << 20)
    assert wanted & (wanted - 1) == 0 and cap // 2 < wanted <= cap  # largest power of two
    read_fd, write_fd = os.pipe()
    try:
        _widen(write_fd)
        assert fcntl.fcntl(write_fd, F_SETPIPE_SZ + 1) == wanted  # F_GETPIPE_SZ
    finally:
        os.close(read_fd)
        os.close(write_fd)
