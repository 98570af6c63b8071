"""README promises: the CI command is README's test command, the examples are real output."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]
README = (ROOT / "README.md").read_text()


def sh_blocks() -> list[str]:
    return [block.strip() for block in re.findall(r"```sh\n(.*?)```", README, re.S)]


def test_ci_runs_readmes_test_command_verbatim():
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    test_command = next(block for block in sh_blocks() if "pytest" in block)
    assert test_command in ci_lines


def test_quick_start_runs_a_bundled_capture_and_finds_what_readme_shows():
    quick = sh_blocks()[0]
    match = re.search(r"vrrpscope (analyze \S+)", quick)
    assert match and (ROOT / match.group(1).split()[1]).is_file()
    out = subprocess.run(
        [sys.executable, "-m", "vrrpscope", *match.group(1).split()],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
        env={**os.environ, "COLUMNS": "80"},  # README shows it at 80 columns
    ).stdout  # fmt: skip
    after = README[README.index(quick) + len(quick) :]
    shown = after.split("```\n")[2].splitlines()  # the output block after its own
    assert any(line.startswith("  i1   CRITICAL") for line in shown)
    printed = out.splitlines()
    for line in shown:
        assert line in printed


def test_decode_examples_are_real_output():
    examples = [line for line in README.splitlines() if re.match(r"^\s+\d+  \d{4}-", line)]
    assert examples
    printed: set[str] = set()
    for name in ("vrrp.pcap", "vrrp-vrrp_print-oobr-2.pcap"):
        path = ROOT / "tests" / "fixtures" / "peer" / "tcpdump" / name
        printed |= set(
            subprocess.run(
                [sys.executable, "-m", "vrrpscope", "decode", str(path)],
                capture_output=True, text=True, timeout=60,
            ).stdout.splitlines()
        )  # fmt: skip
    for line in examples:
        assert line in printed


def test_finding_table_matches_the_detectors_registry():
    from vrrpscope.findings import registry

    table = re.search(r"\| finding \| severity \| when \|\n\|[-|]+\|\n((?:\|.*\|\n)+)", README)
    assert table
    rows = [line.split("|")[1:3] for line in table.group(1).splitlines()]
    in_readme = {name.strip().strip("`"): severity.strip() for name, severity in rows}
    declared = {str(kind): str(spec.severity) for kind, spec in registry().items()}
    assert in_readme == declared


def test_threshold_table_matches_the_thresholds_and_their_defaults():
    from vrrpscope.thresholds import Thresholds

    table = re.search(r"\| option \| default \| meaning \|\n\|[-|]+\|\n((?:\|.*\|\n)+)", README)
    assert table
    rows = [re.split(r"(?<!\\)\|", line)[1:4] for line in table.group(1).splitlines()]
    in_readme = [
        (o.strip().strip("`"), d.strip(), m.strip().replace("\\|", "|")) for o, d, m in rows
    ]
    declared = [
        (f"--{name.replace('_', '-')}", f"{default} {unit}".strip(), help_)
        for name, default, unit, help_ in Thresholds.describe()
    ]
    assert in_readme == declared


def test_design_catalogue_names_each_kinds_detector():
    from vrrpscope.findings import registry

    design = (ROOT / "docs/DESIGN.md").read_text()
    table = re.search(r"\| detector module \| kinds \|\n\|[-|]+\|\n((?:\|.*\|\n)+)", design)
    assert table
    in_design = {
        kind.strip(): module.strip()
        for line in table.group(1).splitlines()
        for module, kinds in [line.split("|")[1:3]]
        for kind in kinds.split(",")
    }
    declared = {str(kind): spec.detector.rsplit(".", 1)[1] for kind, spec in registry().items()}
    assert in_design == declared
