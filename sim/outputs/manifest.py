"""manifest.json: everything needed to know what produced a run and to reproduce it."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any

import sim
from sim.errors import ScenarioError

MANIFEST = "manifest.json"  # the file name; a run directory that has one is complete
MANIFEST_VERSION = 1
# Distributions whose versions can change results or file formats.
VERSIONED_PACKAGES = ("mesa", "numpy", "pandas", "pyarrow", "pydantic", "scipy", "matplotlib")
SOURCE_TREE = Path(sim.__file__).resolve().parent.parent


def build_manifest(
    scenario,
    *,
    seed_info: dict,
    wall_time_s: float,
    steps: int,
    source: Path | str | None,
    started: datetime | None = None,
) -> dict[str, Any]:
    """The manifest of one run; `started` defaults to now minus the wall time."""
    started = started or datetime.now(UTC) - timedelta(seconds=wall_time_s)
    return {
        "manifest_version": MANIFEST_VERSION,
        "scenario_name": scenario.name,
        "scenario_source": str(Path(source).resolve()) if source is not None else None,
        "started_utc": started.astimezone(UTC).isoformat(timespec="seconds"),
        "wall_time_s": round(float(wall_time_s), 3),
        "steps": int(steps),
        "steps_per_second": round(steps / wall_time_s, 3) if wall_time_s > 0 else None,
        "seed": seed_info,
        "versions": package_versions(),
        "git": git_state(SOURCE_TREE),
        "platform": platform_info(),
        "scenario": scenario.resolved(),  # Scenario.from_resolved(...) gives the very scenario back
    }


def package_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {"python": platform.python_version(), "recruitsim": sim.__version__}
    for name in VERSIONED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def code_identity() -> dict[str, Any]:
    """The code that runs: the package version, and the git commit and dirty flag of its source
    checkout (None when it is installed, not a checkout, or git is missing)."""
    return {"recruitsim": sim.__version__, **git_state(SOURCE_TREE)}


def describe_code(code: dict | None) -> str:
    """One reader's phrase for a `code_identity()`: 'recruitsim 0.1.0 (commit 1a2b3c4d5e6f, with uncommitted changes)'."""
    if not isinstance(code, dict):
        return "recruitsim of unknown version (not recorded)"
    commit = code.get("commit")
    where = "not a git checkout" if not commit else f"commit {str(commit)[:12]}{', with uncommitted changes' if code.get('dirty') else ''}"
    return f"recruitsim {code.get('recruitsim')} ({where})"


def code_change_message(what: str, before: dict | None, now: dict) -> str:
    """The one line refusing to mix runs of two versions of the code (`what` was run by `before`)."""
    return (f"{what} was run by {describe_code(before)}, and this is {describe_code(now)}; "
            "rerun with --allow-code-change to mix their runs knowingly, or choose another --out")


def git_state(tree: Path) -> dict[str, Any]:
    """Commit and dirty flag of `tree`; None for both when it is not a git checkout or git is missing."""
    # An installed copy may sit inside some unrelated repository (a project's .venv): only trust
    # git when `tree` is the top of the checkout.
    top = _git(tree, "rev-parse", "--show-toplevel")
    in_checkout = top is not None and Path(top).resolve() == tree.resolve()
    commit = _git(tree, "rev-parse", "HEAD") if in_checkout else None
    status = _git(tree, "status", "--porcelain") if commit else None
    return {"commit": commit, "dirty": None if status is None else bool(status)}


def _git(tree: Path, *args: str) -> str | None:
    # Provenance is a nicety: a missing git, a non-checkout or a slow disk must never fail a run.
    try:
        done = subprocess.run(
            ["git", "-C", str(tree), *args], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def platform_info() -> dict[str, Any]:
    return {
        "system": platform.system(),
        "release": platform.release(),
        "machine": platform.machine(),
        "python_implementation": platform.python_implementation(),
        "python_executable": sys.executable,
        "cpu_count": os.cpu_count(),
    }


# --------------------------------------------------------------------------- re-running a manifest
def read_manifest(path: Path) -> tuple[Path, dict]:
    """The manifest file at `path` (a manifest.json, or a run directory holding one) and its content."""
    file = path / MANIFEST if path.is_dir() else path
    try:
        manifest = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError(f"{file}: file not found (a run directory has a {MANIFEST})") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ScenarioError(f"{file}: not a readable {MANIFEST} ({' '.join(str(exc).split())})") from None
    if not isinstance(manifest, dict) or "scenario" not in manifest:
        raise ScenarioError(f"{file}: not a recruitsim {MANIFEST} (it has no 'scenario')")
    return file, manifest


def replication_of(manifest: dict) -> tuple[int, ...]:
    """The replication key a run drew its random numbers with (empty for a plain run)."""
    seed = manifest.get("seed")
    recorded = seed.get("replication", []) if isinstance(seed, dict) else []
    return tuple(int(part) for part in recorded)
