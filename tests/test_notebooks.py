"""Every notebook under notebooks/ runs from top to bottom without an error, and is stored clean.

The notebooks are executed with nbclient in a `python3` kernel (ipykernel, from this
environment), with notebooks/ as working directory and RECRUITSIM_NOTEBOOK_SMALL=1, which the
notebooks read to run a small population for few steps, so the whole file takes seconds.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
BASELINE = ROOT / "scenarios" / "baseline.yaml"
TIMEOUT_S = 300
NOTEBOOKS = sorted(p for p in NOTEBOOK_DIR.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def _id(path: Path) -> str:
    return str(path.relative_to(NOTEBOOK_DIR))


def test_there_are_notebooks():
    # Without this, an empty or moved notebooks/ would turn the tests below into silent skips.
    assert NOTEBOOKS, f"no notebooks found under {NOTEBOOK_DIR}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_id)
def test_notebook_is_stored_without_outputs(path: Path):
    """Committed notebooks stay small and diffable: no outputs, no execution counts."""
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    dirty = [i for i, cell in enumerate(nb.cells)
             if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)]
    assert not dirty, f"{_id(path)}: cells {dirty} have stored outputs or execution counts; clear them before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_id)
def test_notebook_runs(path: Path, monkeypatch: pytest.MonkeyPatch):
    # The notebooks load the baseline scenario: a missing file is a failure here, not a skip.
    assert BASELINE.is_file(), f"{BASELINE.relative_to(ROOT)} is missing, and the notebooks load it"
    monkeypatch.setenv("RECRUITSIM_NOTEBOOK_SMALL", "1")  # inherited by the kernel process
    # `import sim` in the kernel also from a checkout that is not pip-installed (as conftest.py does here).
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")  # inline figures, whatever the caller set
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=TIMEOUT_S,
        kernel_name="python3",
        extra_arguments=["--colors=NoColor"],  # plain tracebacks in the failure message, no ANSI escapes
        resources={"metadata": {"path": str(path.parent)}},  # the kernel's working directory
    )
    try:
        client.execute()
    except CellExecutionError as exc:
        pytest.fail(f"{_id(path)}: a cell raised an error:\n{exc}", pytrace=False)
    # A warning printed by a cell (e.g. a DeprecationWarning) would greet every reader of the notebook.
    warnings = [
        (i, out.text)
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code"
        for out in cell.outputs
        if out.output_type == "stream" and out.name == "stderr" and "Warning" in out.text
    ]
    assert not warnings, f"{_id(path)}: cells printed warnings: {warnings}"
