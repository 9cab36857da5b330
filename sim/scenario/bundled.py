"""The scenarios shipped inside the package (sim/scenarios/), found by name.

`recruitsim run baseline` runs the bundled baseline from any directory, also after a plain
`pip install`; a path that exists always wins over a bundled name, so a user's own
`baseline.yaml` in the working directory is never shadowed. In a checkout, sim/scenarios is a
link to the repository's scenarios/ folder, so there is one copy of each file.
"""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path

from sim.errors import ScenarioError

BUNDLED_DIR = Path(__file__).resolve().parent.parent / "scenarios"
SUFFIX = ".yaml"


def bundled_scenarios() -> dict[str, Path]:
    """Name (file stem) -> path of every bundled scenario, in name order."""
    return {path.stem: path for path in sorted(BUNDLED_DIR.glob(f"*{SUFFIX}"))}


def bundled_path(name: str) -> Path | None:
    """The bundled scenario called `name` (`baseline` or `baseline.yaml`), or None."""
    return bundled_scenarios().get(name.removesuffix(SUFFIX)) if _is_bare_name(name) else None


def find_scenario(text: str | Path) -> Path:
    """A scenario argument as a path: an existing file or directory as given, else a bundled
    scenario of that name. A bare name that is neither is one error line listing the bundled
    names; anything else (a path) is returned as it is, so the loader names what is missing."""
    path = Path(text)
    if path.exists():
        return path
    found = bundled_path(str(text))
    if found is not None:
        return found
    if _is_bare_name(str(text)):
        raise ScenarioError(f"{text}: no such file, and no bundled scenario of that name{_suggestion(str(text))} (bundled: {', '.join(bundled_scenarios())}; see `recruitsim scenarios`)")
    return path


def copy_scenario(name: str, dest: Path, *, overwrite: bool = False) -> list[Path]:
    """Copy a bundled scenario, and the bundled files it extends, into `dest`, so the copy runs
    there as it is (an `extends:` path is relative to its file). Returns the files written."""
    source = bundled_path(name)
    if source is None:
        raise ScenarioError(f"{name}: no bundled scenario of that name{_suggestion(name)} (bundled: {', '.join(bundled_scenarios())})")
    from sim.scenario.loader import read_extends_chain

    files = [path for path, _ in read_extends_chain(source)]
    targets = [dest / path.resolve().relative_to(BUNDLED_DIR.resolve()) for path in files]
    existing = [str(target) for target in targets if target.exists()]
    if existing and not overwrite:
        raise ScenarioError(f"{', '.join(existing)}: already exists (give --overwrite to replace it)")
    for path, target in zip(files, targets, strict=True):
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    return targets


def description_of(path: Path) -> str:
    """A bundled scenario's `description:`, on one line (empty if it has none)."""
    from sim.scenario.loader import read_mapping

    text = read_mapping(path).get("description") or ""
    return " ".join(str(text).split())


def _suggestion(name: str) -> str:
    close = difflib.get_close_matches(name.removesuffix(SUFFIX), bundled_scenarios(), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _is_bare_name(text: str) -> bool:
    return "/" not in text and "\\" not in text and text not in ("", ".", "..")
