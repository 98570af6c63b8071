"""Fixtures shared by every test package: scratch directories (the fuzz and damage tests
write thousands of small files)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A directory shared by the examples of a module (function-scoped tmp_path is not
    allowed under @given); examples overwrite their file in it."""
    yield tmp_path_factory.mktemp("fuzz")


@pytest.fixture
def fast_tmp(tmp_path: Path) -> Iterator[Path]:
    """A scratch directory on tmpfs when there is one: the damage tests write thousands of
    small files, and a disk-backed /tmp makes each write cost milliseconds."""
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield tmp_path
        return
    path = Path(tempfile.mkdtemp(prefix="vrrpscope-fuzz-", dir=shm))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
