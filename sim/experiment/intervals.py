"""Intervals of the summary table that respect their support, and p-values for many end points.

All end points are counts, means of counts or sums of money: never below 0. The intervals are
bootstrap intervals (BCa, `scipy.stats.bootstrap`), which are percentiles of the means of
resampled replications and so never leave the range of the data: a level's interval never goes
below 0, and the ratio scenario/baseline of two non-negative means never below 0 (a change never
below -100%). Differences and ratios resample whole replications (rep i of the scenario with rep
i of the baseline: `paired=True`), which keeps what common random numbers share.

BCa intervals are transformation-respecting: the interval of the ratio is that of the log ratio
mapped back, so it is the "log-scale" interval, asymmetric as a ratio should be.

p-values test "no paired difference" by flipping the signs of the differences d_i at random (a
paired permutation test: exact when 2^n is at most the number of resamples), without assuming
normality either.

Randomness: every call takes its own generator from `generator(seed, *keys)`, keyed by the
experiment's seed and names, never by the order of scenarios or end points, so the same
experiment gives the same intervals however it was run.
"""

from __future__ import annotations

import warnings
import zlib
from contextlib import contextmanager
from typing import NamedTuple

import numpy as np
from scipy import stats

CONFIDENCE = 0.95
RESAMPLES = 9999
# Resampled values held at once (the bootstrap's memory): 8 bytes each, so about 160 MB at most.
MAX_RESAMPLED_VALUES = 20_000_000
STATISTICS_KEY = 0x57A75  # keeps these generators apart from the simulation's (sim/rng.py uses crc32 of names)


class Interval(NamedTuple):
    estimate: np.ndarray
    low: np.ndarray
    high: np.ndarray


def generator(seed: int, *keys: str) -> np.random.Generator:
    """A generator for one bootstrap or test, determined by the experiment's seed and `keys`."""
    spawn_key = (STATISTICS_KEY, *(zlib.crc32(key.encode("utf-8")) for key in keys))
    return np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=spawn_key))


def level_interval(values: np.ndarray, seed: int, *keys: str) -> Interval:
    """Mean of each column (end point) over the rows (replications) and its BCa interval."""
    values = np.asarray(values, dtype=float)
    return _bootstrap((values,), _mean, _all_alike(values), seed, keys, paired=False)


def difference_interval(values: np.ndarray, base: np.ndarray, seed: int, *keys: str, confidence: float = CONFIDENCE) -> Interval:
    """Mean paired difference (values - base, row by row) of each column and its BCa interval."""
    d = np.asarray(values, dtype=float) - np.asarray(base, dtype=float)
    return _bootstrap((d,), _mean, _all_alike(d), seed, keys, paired=False, confidence=confidence)


def ratio_interval(values: np.ndarray, base: np.ndarray, seed: int, *keys: str) -> Interval:
    """mean(values) / mean(base) of each column and its BCa interval, resampling pairs of rows;
    NaN where the baseline mean is 0.

    The bootstrap runs on the share s = mean(values) / (mean(values) + mean(base)), which lies in
    [0, 1] even for resamples whose baseline replications are all 0, and maps back to the ratio
    s / (1 - s) (BCa intervals follow monotone transformations). An upper bound can so be
    infinite: the data then bound the ratio from below only."""
    values, base = np.asarray(values, dtype=float), np.asarray(base, dtype=float)
    share = _bootstrap((values, base), _share, _proportional(values, base), seed, keys, paired=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = [part / (1.0 - part) for part in share]
    undefined = base.mean(axis=0) == 0
    return Interval(*(np.where(undefined, np.nan, part) for part in ratio))


def _all_alike(values: np.ndarray) -> np.ndarray:
    return np.all(values == values[:1], axis=0)


def _proportional(values: np.ndarray, base: np.ndarray) -> np.ndarray:
    """Columns whose every resample has the same ratio of means: values = r * base row by row."""
    return np.all(values * base.mean(axis=0) == base * values.mean(axis=0), axis=0)


def sign_flip_p_values(differences: np.ndarray, seed: int, *keys: str) -> np.ndarray:
    """Two-sided p-value per column for "the paired differences are centred on 0", from random
    sign flips of the differences; 1 where every difference is 0, NaN with one replication."""
    d = np.asarray(differences, dtype=float)
    p = np.full(d.shape[1], np.nan)
    if d.shape[0] < 2:
        return p
    varied = ~np.all(d == 0, axis=0)
    p[~varied] = 1.0  # every flip gives 0 again
    if varied.any():
        with _quiet():
            result = stats.permutation_test((d[:, varied],), _mean, permutation_type="samples", vectorized=True, axis=0,
                                            n_resamples=RESAMPLES, alternative="two-sided", rng=generator(seed, *keys),
                                            batch=_batch(d))
        p[varied] = result.pvalue
    return p


# --------------------------------------------------------------------------- the bootstrap
def _bootstrap(data: tuple[np.ndarray, ...], statistic, constant: np.ndarray, seed: int, keys: tuple[str, ...], *,
               paired: bool, confidence: float = CONFIDENCE) -> Interval:
    """BCa intervals column by column. `constant` columns have the same statistic in every
    resample (a scenario that equals the baseline, an end point that is always 0): their interval
    is that single value. With one replication the interval is NaN."""
    estimate = statistic(*data, axis=0)
    n = data[0].shape[0]
    nan = np.full_like(estimate, np.nan)
    if n < 2:
        return Interval(estimate, nan, nan.copy())
    varied = ~constant
    low, high = estimate.copy(), estimate.copy()
    if varied.any():
        with _quiet():
            result = stats.bootstrap(tuple(part[:, varied] for part in data), statistic, paired=paired, vectorized=True, axis=0,
                                     confidence_level=confidence, n_resamples=RESAMPLES, method="BCa",
                                     rng=generator(seed, *keys), batch=_batch(data[0]))
        low[varied], high[varied] = result.confidence_interval
    return Interval(estimate, low, high)


def _mean(x: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.mean(x, axis=axis)


def _share(x: np.ndarray, base: np.ndarray, axis: int = -1) -> np.ndarray:
    """mean(x) / (mean(x) + mean(base)); 1/2 (the same) when both are 0."""
    top, bottom = np.mean(x, axis=axis), np.mean(base, axis=axis)
    total = top + bottom
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total == 0, 0.5, top / total)


def _batch(values: np.ndarray) -> int:
    """Resamples per batch so that a batch holds at most MAX_RESAMPLED_VALUES values."""
    return max(1, MAX_RESAMPLED_VALUES // max(1, values.size))


@contextmanager
def _quiet():
    """scipy warns of what the callers handle themselves (a BCa interval that cannot be computed
    comes back as NaN and is shown as such); a RuntimeWarning would be an error in the tests."""
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", stats.DegenerateDataWarning)
        yield
