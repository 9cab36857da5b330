"""Scale invariance (issue 8, item 7): a scenario means the same at any population size.

The baseline is run at 2,000 and at 8,000 persons (same neighbourhood size, so the bigger town
has more neighbourhoods of the same kind) over five seeds each; per-capita outputs (persons
involved and active networks per 10,000, offences per 10,000 a year) must agree within their
sampling error: the difference of the two means within 3.5 standard errors of a difference
(from the spread between seeds) plus 10% of the level, which allows the few quantities kept as
counts on purpose (candidates screened per search, advert readers; docs/ODD.md) a small effect.
Before the counts were expressed per 10,000 persons a town four times larger had about a quarter
of the networks per capita (81.9 members per 10,000 at 5,000 persons against 23.8 at 20,000):
that fails here by a wide margin.

The runs start from the set-up state (no burn-in) and last two years, so that the test is quick;
the set-up and the first years are where absolute counts (initial networks, warnings) did most harm.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim.runner import simulate
from sim.scenario import load_scenario

BASELINE = Path(__file__).resolve().parent.parent / "scenarios" / "baseline.yaml"
SIZES = (2000, 8000)
SEEDS = (1, 2, 3, 4, 5)
MEASURES = ("involved_per_10k", "networks_per_10k", "offences_per_10k_year")


def per_capita(size: int, seed: int) -> dict[str, float]:
    scenario = load_scenario(BASELINE, [f"population.size={size}", f"seed={seed}", "burn_in_years=0", "steps=104"])
    ts = simulate(scenario).results.timeseries
    per_10k = 10_000 / ts["population"].to_numpy()
    last = ts["year"] > ts["year"].max() - 1
    return {
        "involved_per_10k": float((ts["involved"] * per_10k)[last].mean()),
        "networks_per_10k": float((ts["networks_active"] * per_10k)[last].mean()),
        "offences_per_10k_year": float((ts["offences"] * per_10k)[last].sum()),
    }


@pytest.fixture(scope="module")
def measured() -> dict[int, dict[str, np.ndarray]]:
    runs = {size: [per_capita(size, seed) for seed in SEEDS] for size in SIZES}
    return {size: {m: np.array([r[m] for r in rows]) for m in MEASURES} for size, rows in runs.items()}


@pytest.mark.parametrize("measure", MEASURES)
def test_per_capita_outputs_do_not_depend_on_the_population_size(measured, measure):
    small, large = measured[SIZES[0]][measure], measured[SIZES[1]][measure]
    error = np.sqrt(small.var(ddof=1) / len(small) + large.var(ddof=1) / len(large))
    level = (small.mean() + large.mean()) / 2
    assert level > 0, "the baseline has something to measure"
    assert abs(small.mean() - large.mean()) < 3.5 * error + 0.1 * level, (small.mean(), large.mean(), error)
