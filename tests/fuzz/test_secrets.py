"""Secrets in a capture never reach any output unless --show-secrets.

One capture carries a VRRPv2 simple-text password, IPsec AH ICVs (VRRPv2, VRRPv3 over
IPv4 and IPv6) and a CARP HMAC. Every output of every command in OUTPUTS (stdout, stderr
and every file the command writes) is searched for each secret in every spelling a leak
could take (text, hex, colon hex, base64, and any 4-byte piece of it).

To cover a new command (analyze, plots, metrics, ...) add an :class:`Output` to OUTPUTS:
its argv with ``{capture}`` and ``{outdir}`` placeholders, and the secrets it prints with
--show-secrets (the test checks it does, so a secret that silently vanishes is noticed).
"""

from __future__ import annotations

import base64
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fuzz import REPO
from tests.helpers.secrets import (
    AH_ICV_V2,
    CARP_HMAC,
    MASK,
    PASSWORD,
    SECRETS,
    secret_capture,
    spellings,
)


@dataclass(frozen=True)
class Output:
    """One way vrrpscope prints a capture; ``shows`` names the secrets it carries (masked
    by default, in clear with --show-secrets)."""

    name: str
    argv: tuple[str, ...]  # after `vrrpscope`; "{capture}" and "{outdir}" are filled in
    shows: frozenset[str]
    # where --show-secrets goes: right after the command name
    command_words: int = 1


OUTPUTS = [
    Output("decode", ("decode", "{capture}"), frozenset({"password"})),
    Output("decode --json", ("decode", "--json", "{capture}"), frozenset(SECRETS)),
]


@dataclass
class Produced:
    """Everything one run put out: stdout, stderr and the files it wrote, by name."""

    code: int
    blobs: dict[str, bytes]

    def find(self, secret: bytes) -> list[str]:
        """Where any spelling of ``secret`` appears ("stdout: 68756e74...")."""
        return [
            f"{where}: {form!r}"
            for where, blob in self.blobs.items()
            for form in spellings(secret)
            if form in blob
        ]


def produce(output: Output, capture: Path, outdir: Path, show: bool) -> Produced:
    argv = [arg.format(capture=capture, outdir=outdir) for arg in output.argv]
    if show:
        argv.insert(output.command_words, "--show-secrets")
    result = subprocess.run(
        [sys.executable, "-m", "vrrpscope", *argv],
        capture_output=True,
        timeout=120,
        cwd=REPO,
    )
    blobs = {"stdout": result.stdout, "stderr": result.stderr}
    for path in sorted(outdir.rglob("*")):
        if path.is_file():
            blobs[str(path.relative_to(outdir))] = path.read_bytes()
    return Produced(result.returncode, blobs)


@pytest.fixture(scope="module")
def capture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("secrets") / "secrets.pcap"
    path.write_bytes(secret_capture())
    return path


@pytest.mark.parametrize("output", OUTPUTS, ids=[o.name for o in OUTPUTS])
def test_no_secret_in_any_output_without_show_secrets(
    output: Output, capture: Path, tmp_path: Path
) -> None:
    produced = produce(output, capture, tmp_path, show=False)
    assert produced.code == 0, produced.blobs["stderr"].decode()
    for name, secret in SECRETS.items():
        assert produced.find(secret) == [], f"{name} leaks in {output.name}"
    # the secrets were there to leak: each output shows the mask in their place
    stdout = produced.blobs["stdout"].decode()
    assert stdout.count(MASK) == 10 * len(output.shows), stdout[:2000]


@pytest.mark.parametrize("output", OUTPUTS, ids=[o.name for o in OUTPUTS])
def test_show_secrets_prints_them(output: Output, capture: Path, tmp_path: Path) -> None:
    produced = produce(output, capture, tmp_path, show=True)
    assert produced.code == 0, produced.blobs["stderr"].decode()
    for name in output.shows:
        assert produced.find(SECRETS[name]), f"{name} missing from {output.name} --show-secrets"
    assert MASK not in produced.blobs["stdout"].decode()


def test_spellings_catch_a_leak() -> None:
    """The search itself works: part of the password, a piece of hex, base64 are found."""
    leak = Produced(0, {"stdout": b"auth=hunter** icv " + AH_ICV_V2.hex(":").encode()})
    assert leak.find(PASSWORD) and leak.find(AH_ICV_V2) and not leak.find(CARP_HMAC)
    assert Produced(0, {"f": AH_ICV_V2[3:9].hex().encode()}).find(AH_ICV_V2)
    assert Produced(0, {"f": base64.b64encode(CARP_HMAC)}).find(CARP_HMAC)


NEVER_SHOWN = [
    ("analyze",),
    ("analyze", "--json"),
    ("analyze", "--plot", "{outdir}/timeline.svg"),
    ("plot", "-o", "{outdir}/plot.svg"),
]


@pytest.mark.parametrize("argv", NEVER_SHOWN, ids=lambda argv: " ".join(argv[:2]))
def test_analyze_and_plots_never_print_secrets(
    argv: tuple[str, ...], capture: Path, tmp_path: Path
) -> None:
    """analyze (text, JSON) and the plots (SVG is text: searchable) have no way to show
    secrets at all; their findings mention the password only masked."""
    output = Output(" ".join(argv), (*argv, "{capture}"), frozenset())
    produced = produce(output, capture, tmp_path, show=False)
    assert produced.code == 0, produced.blobs["stderr"].decode()
    assert len(produced.blobs) >= 2 + ("{outdir}" in " ".join(argv))
    for name, secret in SECRETS.items():
        assert produced.find(secret) == [], f"{name} leaks in {output.name}"
