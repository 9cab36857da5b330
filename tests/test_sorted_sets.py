"""The sort-based set operations (sim/sorted_sets.py) give exactly what their numpy namesakes give."""

from __future__ import annotations

import numpy as np
import pytest

from sim import sorted_sets

CASES = {
    "empty": np.zeros(0, np.int64),
    "one": np.array([5]),
    "small keys (packed with their index)": np.random.default_rng(1).integers(0, 50, 1000),
    "negative keys": np.random.default_rng(2).integers(-40, 40, 1000),
    "tie keys of a million persons (too large to pack)": np.random.default_rng(3).choice(
        np.random.default_rng(4).integers(0, 8 * 10**12, 3000), 10_000),
}


@pytest.mark.parametrize("values", CASES.values(), ids=CASES.keys())
def test_unique_first_is_numpys_unique_with_first_indices(values):
    got_values, got_first = sorted_sets.unique_first(values)
    want_values, want_first = np.unique(values, return_index=True)
    np.testing.assert_array_equal(got_values, want_values)
    np.testing.assert_array_equal(got_first, want_first)


@pytest.mark.parametrize("values", CASES.values(), ids=CASES.keys())
def test_unique_union_and_isin_are_numpys(values):
    other = values[::3] + 1
    np.testing.assert_array_equal(sorted_sets.unique(values), np.unique(values))
    np.testing.assert_array_equal(sorted_sets.union(values, other), np.union1d(values, other))
    np.testing.assert_array_equal(sorted_sets.isin(values, other), np.isin(values, other))


@pytest.mark.parametrize("n", [0, 1, 7, 16, 17, 40])
def test_isin_of_few_values_is_numpys(n):
    """Few pairs (a step's newcomers and hosts) are compared all at once; more are searched: both
    give what `np.isin` gives, for any shape of values and repeats in either."""
    draws = np.random.default_rng(n)
    values, test = draws.integers(-5, 12, (n, 3)), draws.integers(-5, 12, n)
    np.testing.assert_array_equal(sorted_sets.isin(values, test), np.isin(values, test))
    np.testing.assert_array_equal(sorted_sets.isin(values[:, 0], list(test)), np.isin(values[:, 0], test))
