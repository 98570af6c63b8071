"""notebooks/explore.ipynb runs end to end (CI executes it) and is kept without outputs."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
NOTEBOOK = ROOT / "notebooks" / "explore.ipynb"
NEEDED = ("nbclient", "nbformat", "ipykernel", "pandas")
MISSING = [name for name in NEEDED if importlib.util.find_spec(name) is None]

pytestmark = pytest.mark.skipif(
    bool(MISSING), reason=f"notebook test needs {', '.join(MISSING)} (pip install '.[test]')"
)


def test_notebook_is_stored_without_outputs():
    import nbformat

    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)


def test_notebook_executes_and_shows_the_incident(monkeypatch: pytest.MonkeyPatch):
    import nbformat
    from nbclient import NotebookClient

    # The kernel imports this checkout even when the package is not installed.
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    monkeypatch.setenv("PYTHONPATH", path)
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    client.execute()  # raises CellExecutionError with the failing cell on any error
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    kinds = [set(o.get("data", {})) for o in outputs]
    assert sum("image/png" in k for k in kinds) >= 2  # the timeline and the overview
    assert sum("text/html" in k for k in kinds) >= 3  # analysis, routers, findings/tables
    text = "\n".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    expected = "split-brain" if (ROOT / "captures" / "split-brain.pcap").exists() else "failover"
    assert expected in text
