"""`vrrpscope decode` as a user runs it: real captures, bad inputs, exit codes, no tracebacks."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import packets as P
from tests.helpers.cli import assert_clean_error, run

PEER = Path(__file__).parents[1] / "fixtures" / "peer"
VRRP_PCAP = PEER / "tcpdump" / "vrrp.pcap"


def pcap_bytes(frames: list[bytes], linktype: int = 1) -> bytes:
    out = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, linktype)
    for i, frame in enumerate(frames):
        out += struct.pack("<IIII", 1_700_000_000 + i, 0, len(frame), len(frame)) + frame
    return out


def advert_frame(vrid: int, priority: int = 100) -> bytes:
    msg = P.vrrp_v2(vrid, priority, ["198.18.1.100"], auth_type=1, auth_data=b"hunter2")
    return P.ethernet(P.ipv4(msg, src="198.18.1.11"))


def test_decode_prints_one_tcpdump_style_line_per_advert():
    result = run("decode", str(VRRP_PCAP))
    assert result.returncode == 0
    lines = result.stdout.decode().splitlines()
    assert len(lines) == 165
    assert lines[0] == (
        "    1  2014-03-05 21:55:06.745865 10.0.0.91 > 224.0.0.18: VRRPv2, Advertisement, "
        "vrid 42, prio 191, authtype simple, intvl 10s, length 28, "
        'addrs(3): 10.4.42.1,10.4.42.2,10.4.42.3 auth "********"'
    )
    assert "abcdefgh" not in result.stdout.decode()
    assert "165 advert(s) in 165 frame(s)" in result.stderr.decode()


def test_show_secrets_reveals_the_password():
    result = run("decode", "--show-secrets", str(VRRP_PCAP))
    assert 'auth "abcdefgh"' in result.stdout.decode().splitlines()[0]


def test_json_lines_have_the_documented_keys():
    result = run("decode", "--json", str(VRRP_PCAP))
    assert result.returncode == 0
    rows = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert len(rows) == 165
    required = {
        "ts", "frame", "segment", "family", "proto", "version", "type", "src", "dst",
        "src_mac", "ttl", "vrid", "priority", "interval_cs", "count", "addresses",
        "auth_type", "checksum_ok", "checksum_form", "issues",
    }  # fmt: skip
    for row in rows:
        assert required <= row.keys()
    first = rows[0]
    assert first["ts"] == pytest.approx(1394056506.745865)
    assert (first["frame"], first["vrid"], first["priority"], first["interval_cs"]) == (
        1,
        42,
        191,
        1000,
    )
    assert first["auth_type"] == "simple" and first["auth_data"] == "********"
    assert first["addresses"] == ["10.4.42.1", "10.4.42.2", "10.4.42.3"]
    assert {row["family"] for row in rows} == {4, 6}
    assert all(row["checksum_ok"] for row in rows)


def test_validation_issues_are_appended(tmp_path):
    path = tmp_path / "ttl.pcap"
    msg = P.vrrp_v2(7, 100, ["198.18.1.100"])
    path.write_bytes(pcap_bytes([P.ethernet(P.ipv4(msg, src="198.18.1.11", ttl=64))]))
    line = run("decode", str(path)).stdout.decode().strip()
    assert line.endswith("[ttl 64 != 255]")


def test_carp_line(tmp_path):
    path = tmp_path / "carp.pcap"
    path.write_bytes(pcap_bytes([P.ethernet(P.ipv4(P.carp(51, advskew=10), src="198.18.1.31"))]))
    line = run("decode", str(path)).stdout.decode().strip()
    assert "CARPv2, Advertisement, vhid 51, advbase 1, advskew 10" in line


def test_compressed_input_is_detected_by_content(tmp_path):
    path = tmp_path / "looks-plain.pcap"
    path.write_bytes(gzip.compress(VRRP_PCAP.read_bytes()))
    result = run("decode", str(path))
    assert result.returncode == 0
    assert len(result.stdout.decode().splitlines()) == 165


def test_stdin():
    result = run("decode", "-", stdin=VRRP_PCAP.read_bytes())
    assert result.returncode == 0
    assert len(result.stdout.decode().splitlines()) == 165


def test_several_files_are_merged_in_time_order(tmp_path):
    early = tmp_path / "a.pcap"
    late = tmp_path / "b.pcap"
    late.write_bytes(pcap_bytes([advert_frame(2)]))
    early.write_bytes(VRRP_PCAP.read_bytes())
    result = run("decode", str(late), str(early))
    lines = result.stdout.decode().splitlines()
    assert len(lines) == 166
    assert lines[-1].startswith(f"{late}:") and "vrid 2," in lines[-1]


# ------------------------------------------------------------------------ bad input


def test_missing_file(tmp_path):
    assert_clean_error(run("decode", str(tmp_path / "nope.pcap")), 3, "nope.pcap")


def test_no_permission(tmp_path):
    """A file the user cannot read; as root, the capabilities that bypass file modes go."""
    path = tmp_path / "secret.pcap"
    path.write_bytes(pcap_bytes([advert_frame(1)]))
    path.chmod(0)
    prefix: list[str] = []
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv (util-linux): root reads any file")
        caps = "-dac_override,-dac_read_search"
        prefix = ["setpriv", "--bounding-set", caps, "--inh-caps", caps]
    result = subprocess.run(
        [*prefix, sys.executable, "-m", "vrrpscope", "decode", str(path)],
        capture_output=True,
        timeout=60,
    )
    assert_clean_error(result, 3, "secret.pcap", "permission denied")


def test_not_a_capture(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello world, this is not a capture\n")
    assert_clean_error(run("decode", str(path)), 3, "notes.txt")


def test_empty_file(tmp_path):
    path = tmp_path / "empty.pcap"
    path.write_bytes(b"")
    assert_clean_error(run("decode", str(path)), 3, "empty.pcap")


def test_truncated_file_header(tmp_path):
    path = tmp_path / "short.pcap"
    path.write_bytes(VRRP_PCAP.read_bytes()[:10])
    assert_clean_error(run("decode", str(path)), 3, "short.pcap")


def test_directory(tmp_path):
    assert_clean_error(run("decode", str(tmp_path)), 3, str(tmp_path))


def test_truncated_record_keeps_adverts_before_the_damage(tmp_path):
    data = pcap_bytes([advert_frame(1), advert_frame(2), advert_frame(3)])
    path = tmp_path / "cut.pcap"
    path.write_bytes(data[:-10])
    result = run("decode", str(path))
    assert result.returncode == 4
    assert len(result.stdout.decode().splitlines()) == 2
    err = result.stderr.decode()
    assert "Traceback" not in err
    record_offset = 24 + 2 * (16 + len(advert_frame(1)))
    assert f"cut.pcap: byte {record_offset}" in err


def test_caplen_larger_than_the_file(tmp_path):
    data = bytearray(pcap_bytes([advert_frame(1), advert_frame(2)]))
    second = 24 + 16 + len(advert_frame(1))
    struct.pack_into("<I", data, second + 8, 0x7FFFFFFF)
    path = tmp_path / "huge.pcap"
    path.write_bytes(bytes(data))
    result = run("decode", str(path))
    assert result.returncode == 4
    assert len(result.stdout.decode().splitlines()) == 1
    assert f"byte {second}" in result.stderr.decode()


def test_unknown_link_type_is_named_once_not_fatal(tmp_path):
    path = tmp_path / "user0.pcap"
    path.write_bytes(pcap_bytes([b"\x00" * 60] * 3, linktype=147))
    result = run("decode", str(path))
    assert result.returncode == 0
    notes = [line for line in result.stderr.decode().splitlines() if "link type 147" in line]
    assert len(notes) == 1 and "3 frame(s)" in notes[0]


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")
def test_crosscheck_agrees_with_wireshark_on_vrrp_pcap():
    result = run("decode", "--crosscheck", str(VRRP_PCAP))
    assert result.returncode == 0, result.stdout.decode()
    assert "165 adverts, 165 Wireshark VRRP/CARP frames, 0 difference(s)" in result.stdout.decode()


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")
def test_crosscheck_explains_message_only_v3_checksums(tmp_path):
    msg = P.vrrp_v3(9, 100, ["198.18.1.100"], src="198.18.1.11", form="message-only")
    path = tmp_path / "cisco.pcap"
    path.write_bytes(pcap_bytes([P.ethernet(P.ipv4(msg, src="198.18.1.11"))]))
    result = run("decode", "--crosscheck", str(path))
    out = result.stdout.decode()
    assert result.returncode == 0, out
    assert "checksum: vrrpscope='good' wireshark='bad'" in out and "message-only" in out


def test_truncated_simple_auth_prints_no_auth_field():
    path = PEER / "tcpdump" / "vrrp-vrrp_print-oobr.pcap"
    first = run("decode", str(path)).stdout.decode().splitlines()[0]
    assert "authtype simple" in first and 'auth "' not in first and "None" not in first
