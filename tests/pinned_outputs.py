"""Digests of the outputs of small runs of bundled scenarios, pinned in tests/data/pinned_outputs.json.

A refactoring must leave them unchanged (`tests/test_pinned_outputs.py`). A change of behaviour
made on purpose updates them, in the same commit, with:

    python tests/pinned_outputs.py

Digests are of the tables' CSV text with floats at 12 significant digits, so they do not depend
on the Parquet writer's version.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PINNED = ROOT / "tests" / "data" / "pinned_outputs.json"
SCENARIOS = ("baseline", "combined_package", "forum_infiltration")
# 3.5 years after a one-year burn-in (the interventions of year 3 act), with networks seeded densely
# enough that a town of 800 has several (at the steady state it would often have none: empty tables pin nothing)
OVERRIDES = ("population.size=800", "steps=182", "step=week", "burn_in_years=1", "networks.initial_per_10k.phishing=60",
             "networks.initial_per_10k.carding=30")


def digests(name: str) -> dict[str, str]:
    sys.path.insert(0, str(ROOT))
    from sim.runner import simulate
    from sim.scenario.loader import load_scenario

    results = simulate(load_scenario(ROOT / "scenarios" / f"{name}.yaml", OVERRIDES)).results
    tables = {"timeseries": results.timeseries, "networks": results.networks, "events": results.events}
    return {table: hashlib.sha256(frame.to_csv(index=False, float_format="%.12g").encode()).hexdigest()
            for table, frame in tables.items()}


def main() -> None:
    PINNED.write_text(json.dumps({name: digests(name) for name in SCENARIOS}, indent=2) + "\n")
    print(f"wrote {PINNED.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
