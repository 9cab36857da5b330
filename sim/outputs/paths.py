"""Where outputs go unless told: `runs/<label>-<YYYYmmdd-HHMMSS>`, with labels made safe.

Standard library only: the experiment spec (imported by every worker process) uses `slug`.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

RUNS_DIR = Path("runs")


def slug(name: str) -> str:
    """A free-text name (`a/b`, `..`, spaces) as one safe path component."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "scenario"


def timestamped_dir(label: str, now: datetime | None = None) -> Path:
    """runs/<safe label>-<YYYYmmdd-HHMMSS>, in local time, as a user reads their clock."""
    return RUNS_DIR / f"{slug(label)}-{(now or datetime.now()):%Y%m%d-%H%M%S}"
