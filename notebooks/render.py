"""Re-render the stored outputs of every notebook here, at the notebooks' own sizes (`make notebooks`).

Each notebook runs top to bottom in a fresh `python3` kernel with notebooks/ as working directory,
and is saved with its outputs, so that it reads well before anyone runs it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent


def render(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=1800, kernel_name="python3", resources={"metadata": {"path": str(HERE)}}).execute()
    nbformat.write(nb, path)
    print(f"rendered {path.relative_to(HERE.parent)}")


if __name__ == "__main__":
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"  # figures inline, whatever the caller set
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE.parent), os.environ.get("PYTHONPATH")]))
    for name in sys.argv[1:] or sorted(p.name for p in HERE.glob("*.ipynb")):
        render(HERE / name)
