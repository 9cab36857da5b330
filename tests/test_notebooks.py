"""Every notebook under notebooks/ is stored with its outputs (so that it reads well on GitHub
and in JupyterLab before anyone runs it) and runs from top to bottom without an error.

The test executes a copy with nbclient in a `python3` kernel (ipykernel, from this environment),
with notebooks/ as working directory. Like papermill, it injects a cell after the cell tagged
`parameters` that shrinks the run (SMALL below), so the whole file takes seconds; the narrative
never mentions it. `make notebooks` re-renders the stored outputs at the notebooks' own sizes.
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
# Injected after each notebook's `parameters` cell: small towns without a burn-in, seeded with five
# phishing networks (a town this size at the steady state often has none, and the notebooks show one).
TINY_TOWN = '"population.size=1000", "steps=52", "burn_in_years=0", "networks.initial_per_10k.phishing=50"'
SMALL = {
    "quickstart.ipynb": f"overrides = [{TINY_TOWN}]",
    "compare_interventions.ipynb": f"OVERRIDES, REPS = [{TINY_TOWN}], 2",
}


def _id(path: Path) -> str:
    return str(path.relative_to(NOTEBOOK_DIR))


def test_there_are_notebooks():
    # Without this, an empty or moved notebooks/ would turn the tests below into silent skips.
    assert NOTEBOOKS, f"no notebooks found under {NOTEBOOK_DIR}"
    assert {p.name for p in NOTEBOOKS} == set(SMALL), "every notebook needs its small parameters here"


def parameters_cell(nb) -> int:
    tagged = [i for i, cell in enumerate(nb.cells) if "parameters" in cell.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, f"one cell tagged 'parameters' (found {len(tagged)})"
    return tagged[0]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_id)
def test_notebook_is_stored_with_its_outputs(path: Path):
    """Rendered top to bottom in one session (`make notebooks`), without errors or warnings."""
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    parameters_cell(nb)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    counts = [cell.execution_count for cell in code]
    assert counts == list(range(1, len(code) + 1)), f"{_id(path)}: not rendered in order in one session; run `make notebooks`"
    assert any(cell.outputs for cell in code), f"{_id(path)}: no outputs; run `make notebooks`"
    for i, cell in enumerate(code):
        for out in cell.outputs:
            assert out.output_type != "error", f"{_id(path)}: code cell {i} stored an error"
            assert not (out.output_type == "stream" and out.name == "stderr" and "Warning" in out.text), \
                f"{_id(path)}: code cell {i} stored a warning"


def execute(nb, path: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    # what a notebook keeps in a temporary folder of its own (its runs) goes in the test's, removed by pytest
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    # `import sim` in the kernel also from a checkout that is not pip-installed (as conftest.py does here).
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")  # inline figures, whatever the caller set
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


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_id)
def test_notebook_runs(path: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    # The notebooks load the baseline scenario: a missing file is a failure here, not a skip.
    assert BASELINE.is_file(), f"{BASELINE.relative_to(ROOT)} is missing, and the notebooks load it"
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(parameters_cell(nb) + 1, nbformat.v4.new_code_cell(SMALL[path.name]))
    execute(nb, path, monkeypatch, tmp_path)
    # A warning printed by a cell (e.g. a DeprecationWarning) would greet every reader of the notebook.
    warnings = [
        (i, out.text)
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code"
        for out in cell.outputs
        if out.output_type == "stream" and out.name == "stderr" and "Warning" in out.text
    ]
    assert not warnings, f"{_id(path)}: cells printed warnings: {warnings}"
