"""Random numbers keyed by what they decide, so that paired runs stay paired.

Two runs with the same seed that differ in one mechanism (an intervention, a rule's parameter)
should differ only because of that mechanism: common random numbers (Klein et al. 2024,
"Common random numbers in agent-based models", arXiv:2409.02086). Sequential streams lose this
as soon as one draw lands on a different person: every later draw shifts. Here every number a
process draws during the run is instead a function of

    (scenario seed, replication, process name, step, draw label, unit)

where the unit is a person's slot or a network's id. Person 17's chance of being approached at
step 40 then does not depend on whether person 12 was arrested at step 39, nor on how many other
people were drawn for before it. Two kinds of draws:

- `ProcessRandom.uniform(step, units, draw)` and the helpers built on it (`bernoulli`,
  `poisson`, `ranks`, ...): one number per unit from a counter-based hash (SplitMix64's
  finaliser), computed only for the units that need one, vectorised;
- `ProcessRandom.generator(step, *key)`: a numpy Generator seeded from the same keys, for the
  rare work that is not per unit (one network's search, a newcomer batch's attributes). Its
  numbers are sequential again, but only within that (process, step, key): divergence there
  cannot leak into another step or process.

Set-up (before the first step) is the same in paired runs, so it uses plain sequential streams
(`Streams.get`).

What this does not guarantee: once two runs differ in *who* is where (a person arrested in one
run is free in the other), decisions that involve that person differ, and so do decisions that
depend on a changed set as a whole (who meets whom at one venue, which users a network screens).
The keys keep those differences local to the persons, networks and step concerned.
"""

from __future__ import annotations

import functools
import zlib
from collections.abc import Sequence

import numpy as np

from sim import compiled

MASK64 = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15  # SplitMix64's increment: consecutive units are far apart in the hash
_M1, _M2 = 0xBF58476D1CE4E5B9, 0x94D049BB133111EB
_TO_UNIT = 2.0 ** -53


@functools.cache  # a step asks for ~130 labels' keys (the same names every step)
def stream_key(name: str) -> int:
    """A stable 32-bit key for a name (Python's hash() is salted per process)."""
    return zlib.crc32(name.encode("utf-8"))


@functools.lru_cache(maxsize=256)  # a step's kernels ask for the same lists of labels every step
def label_codes(labels: tuple[str, ...]) -> np.ndarray:
    """The codes (`stream_key`) of draw labels, as uint64: what `StepRandom.keys_of_codes` takes
    (read-only: shared by every caller)."""
    codes = np.array([stream_key(label) for label in labels], dtype=np.uint64)
    codes.flags.writeable = False
    return codes


def _mix(x: int) -> int:
    """SplitMix64's finaliser on a Python int (scalar keys)."""
    x &= MASK64
    x = ((x ^ (x >> 30)) * _M1) & MASK64
    x = ((x ^ (x >> 27)) * _M2) & MASK64
    return x ^ (x >> 31)


_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_U1, _U2, _UGOLDEN = np.uint64(_M1), np.uint64(_M2), np.uint64(GOLDEN)


def _mix_array(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser on a uint64 array, in place (wrap-around multiplication is intended)."""
    x ^= x >> _S30
    x *= _U1
    x ^= x >> _S27
    x *= _U2
    x ^= x >> _S31
    return x


def _label(draw: int | str) -> int:
    return stream_key(draw) if isinstance(draw, str) else int(draw)


def _hashed_uniform_numpy(units: np.ndarray, base: np.uint64, with_units=None) -> np.ndarray:
    """The keyed uniforms of `ProcessRandom.uniform` (the numpy twin of the kernels below)."""
    x = np.array(units, dtype=np.int64).view(np.uint64)  # a copy, mixed in place below
    x *= _UGOLDEN
    x += base
    _mix_array(x)
    if with_units is not None:
        other = np.asarray(with_units, dtype=np.int64).astype(np.uint64)
        x += other * _UGOLDEN
        _mix_array(x)
    x >>= _S11
    u = x.astype(np.float64)
    u *= _TO_UNIT
    return u


@compiled.kernel
def _mix_one(x):
    x ^= x >> np.uint64(30)
    x *= np.uint64(_M1)
    x ^= x >> np.uint64(27)
    x *= np.uint64(_M2)
    return x ^ (x >> np.uint64(31))


@compiled.kernel
def keyed_uniform(unit, base):
    """The uniform of one unit under the key `base`, for kernels (as `_hashed_uniform` computes it)."""
    return np.float64(_mix_one(np.uint64(unit) * np.uint64(GOLDEN) + base) >> np.uint64(11)) * _TO_UNIT


@compiled.kernel
def _hashed_uniform(units, base):
    out = np.empty(len(units))
    for i in range(len(units)):
        out[i] = keyed_uniform(units[i], base)
    return out


@compiled.kernel
def _below_kernel(units, base, chance, one_chance):
    # `ProcessRandom.below`: the positions of the units whose uniform is below their chance
    # (`chance[0]` for all if `one_chance`), in order
    where = np.empty(len(units), dtype=np.int64)
    n = 0
    for i in range(len(units)):  # written every time, kept if below: no branch to mispredict
        where[n] = i
        n += keyed_uniform(units[i], base) < chance[0 if one_chance else i]
    return where[:n].copy()


@compiled.kernel
def keyed_pair_uniform(unit, other, base):
    """The uniform of a pair of units under the key `base`, for kernels (as `ProcessRandom.uniform`
    with `with_units` computes it)."""
    x = _mix_one(np.uint64(unit) * np.uint64(GOLDEN) + base)
    x = _mix_one(x + np.uint64(other) * np.uint64(GOLDEN))
    return np.float64(x >> np.uint64(11)) * _TO_UNIT


@compiled.kernel
def _hashed_uniform_pairs(units, base, other):
    out = np.empty(len(units))
    for i in range(len(units)):
        out[i] = keyed_pair_uniform(units[i], other[i], base)
    return out


def per_unit(value: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """`value` (an array) broadcast to `shape`: a scalar's by `np.full`, an array of that shape as
    it is (`np.broadcast_to` costs ~3 us a call; draws are made dozens of times a step)."""
    if value.ndim == 0:
        return np.full(shape, value)
    return value if value.shape == shape else np.broadcast_to(value, shape)


def uniforms_of_key(units, base: np.uint64, with_units=None) -> np.ndarray:
    """The uniforms of `units` (and `with_units`) under a draw's key (`StepRandom.key`): what
    `ProcessRandom.uniform` gives for that step and draw label."""
    units = np.asarray(units, dtype=np.int64)
    if compiled.enabled() and units.ndim == 1:
        if with_units is None:
            return _hashed_uniform(units, base)
        other = np.asarray(with_units, dtype=np.int64)
        return _hashed_uniform_pairs(units, base, per_unit(other, units.shape))
    return _hashed_uniform_numpy(units, base, with_units)


class ProcessRandom:
    """The random numbers of one process during the run, keyed by step, draw label and unit."""

    def __init__(self, name: str, key: int):
        self.name = name
        self.key = key & MASK64
        self._step: int | None = None  # the latest step asked for, its key, and its labels' keys
        self._step_key = 0
        self._bases: dict[int | str, np.uint64] = {}

    def _base(self, step: int, draw: int | str) -> np.uint64:
        """The key of (step, draw): computed once per step and label, as it is asked for (~0.7 us
        a key; at 10,000 persons ~20 processes ask for ~130 keys a step). Working out at a new
        step the keys of every label a process had asked for, at once by numpy, cost more: ~8 us
        a process whatever its number of labels (stops 32-33, measured)."""
        if step != self._step:
            self._step, self._step_key = step, _mix(self.key ^ _mix(int(step) + 1))
            self._bases.clear()
        base = self._bases.get(draw)
        if base is None:
            base = self._bases[draw] = np.uint64(_mix(self._step_key + _label(draw)))
        return base

    def _bases_at(self, step: int, draws: Sequence[str]) -> np.ndarray:
        """`_base(step, draw)` of each of the (string) draw labels, by one numpy pass."""
        return self._bases_of_codes(step, label_codes(tuple(draws)))

    def _bases_of_codes(self, step: int, codes: np.ndarray) -> np.ndarray:
        """`_base(step, draw)` of draw labels given by their codes (`label_codes`), by one numpy
        pass: the same keys (the sum wraps at 2^64 as `_mix` masks it, and `_mix_array` is `_mix`
        on uint64)."""
        if step != self._step:
            self._base(step, 0)  # (the step's key)
        return _mix_array(codes + np.uint64(self._step_key))

    def uniform(self, step: int, units, draw: int | str = 0, with_units=None) -> np.ndarray:
        """One uniform number in [0, 1) per unit (a slot or network id; repeats get the same number).

        `with_units` (same length, or a scalar) keys each number by a pair of units, e.g.
        (candidate, network): two networks approaching one person draw different numbers.
        """
        return uniforms_of_key(units, self._base(step, draw), with_units)

    def bernoulli(self, step: int, units, p, draw: int | str = 0, with_units=None) -> np.ndarray:
        """True with probability p (scalar or one per unit)."""
        return self.uniform(step, units, draw, with_units) < p

    def below(self, step: int, units, chance, draw: int | str = 0) -> np.ndarray:
        """Where the units' uniforms are below `chance` (a number, or one per unit): the positions
        `np.flatnonzero(uniform(...) < chance)`, without the uniforms and the mask (a kernel: the
        visits of a million persons to a space a step, or their forum joins)."""
        units = np.asarray(units, dtype=np.int64)
        chance = np.asarray(chance, dtype=np.float64)
        if chance.ndim == 1 and chance.shape != units.shape:  # (the kernel reads one per unit, unchecked)
            raise ValueError(f"one chance per unit: {len(chance)} chances for {len(units)} units")
        if compiled.enabled() and units.ndim == 1 and chance.ndim <= 1:
            return _below_kernel(units, self._base(step, draw), np.ascontiguousarray(chance.reshape(-1)), chance.ndim == 0)
        return np.flatnonzero(self.uniform(step, units, draw) < chance)

    def poisson(self, step: int, units, lam, draw: int | str = 0, with_units=None) -> np.ndarray:
        """A Poisson count with mean lam per unit (inverse CDF of the unit's uniform)."""
        units = np.asarray(units, dtype=np.int64)
        if compiled.enabled() and with_units is None and units.ndim == 1:
            lam = np.ascontiguousarray(per_unit(np.asarray(lam, dtype=float), units.shape))
            # e^-lam by numpy, as `poisson_quantile` works it out (a kernel's exp may differ in the last bit)
            k = _poisson_kernel(units, self._base(step, draw), lam, np.exp(-lam))
            large = k < 0
            if large.any():
                k[large] = poisson_quantile(uniforms_of_key(units[large], self._base(step, draw)), lam[large])
            return k
        u = self.uniform(step, units, draw, with_units)
        return poisson_quantile(u, np.broadcast_to(np.asarray(lam, dtype=float), u.shape))

    def ranks(self, step: int, units, draw: int | str = 0, with_units=None) -> np.ndarray:
        """A random order of the units: indices that sort them by their keyed numbers."""
        return np.argsort(self.uniform(step, units, draw, with_units), kind="stable")

    def at(self, step: int) -> StepRandom:
        """This process's numbers for one step (so that step-level code need not pass `step`)."""
        return StepRandom(self, step)

    def generator(self, step: int, *key: int | str) -> np.random.Generator:
        """A Generator for this step (and optional further keys, e.g. a network id)."""
        words = [self.key & 0xFFFFFFFF, self.key >> 32, int(step), *(_label(k) & MASK64 for k in key)]
        return np.random.default_rng(np.random.SeedSequence(words))


class StepRandom:
    """A process's keyed numbers at one step: `ProcessRandom`'s methods without the step."""

    def __init__(self, process: ProcessRandom, step: int):
        self.process = process
        self.step = int(step)

    def uniform(self, units, draw: int | str = 0, with_units=None) -> np.ndarray:
        return self.process.uniform(self.step, units, draw, with_units)

    def bernoulli(self, units, p, draw: int | str = 0, with_units=None) -> np.ndarray:
        return self.process.bernoulli(self.step, units, p, draw, with_units)

    def below(self, units, chance, draw: int | str = 0) -> np.ndarray:
        return self.process.below(self.step, units, chance, draw)

    def poisson(self, units, lam, draw: int | str = 0, with_units=None) -> np.ndarray:
        return self.process.poisson(self.step, units, lam, draw, with_units)

    def ranks(self, units, draw: int | str = 0, with_units=None) -> np.ndarray:
        return self.process.ranks(self.step, units, draw, with_units)

    def exponential(self, units, mean, draw: int | str = 0, with_units=None) -> np.ndarray:
        """Exponential waiting times with the given mean (inverse CDF)."""
        return -np.asarray(mean, dtype=float) * np.log1p(-self.uniform(units, draw, with_units))

    def normal(self, units, draw: int | str = 0, with_units=None) -> np.ndarray:
        """Standard normal deviates (inverse CDF; a uniform of exactly 0 is nudged to the smallest double)."""
        from scipy.special import ndtri

        return ndtri(np.maximum(self.uniform(units, draw, with_units), _TO_UNIT))

    def generator(self, *key: int | str) -> np.random.Generator:
        return self.process.generator(self.step, *key)

    def key(self, draw: int | str) -> np.uint64:
        """The key of a draw label at this step (what `uniform` hashes each unit with)."""
        return self.process._base(self.step, draw)

    def keys_of_codes(self, codes: np.ndarray) -> np.ndarray:
        """`key(label)` of each label given by its code (`label_codes`), in one pass: for kernels
        that draw under many labels whose list is known ahead (a step's venue visits)."""
        return self.process._bases_of_codes(self.step, codes)

    def labelled(self, prefix: str) -> LabelledDraws:
        """This step's uniforms under labels `prefix:label` (e.g. one place type's meetings)."""
        return LabelledDraws(self, prefix)


class LabelledDraws:
    """A step's keyed uniforms under a label prefix: `draws(units, label)` is
    `uniform(units, "prefix:label")`. `key(label)` is that label's key, for kernels that draw
    under many labels in one pass (`keyed_uniform` gives the same numbers)."""

    def __init__(self, draws: StepRandom, prefix: str):
        self.draws = draws
        self.prefix = prefix

    def __call__(self, units, label: str) -> np.ndarray:
        return self.draws.uniform(units, f"{self.prefix}:{label}")

    def key(self, label: str) -> np.uint64:
        return self.draws.key(f"{self.prefix}:{label}")


def labelled_keys(requests: Sequence[tuple[LabelledDraws, Sequence[str]]]) -> list[np.ndarray]:
    """The keys (`LabelledDraws.key`) of each request's labels, as uint64 arrays: those of one
    process and step worked out by one numpy pass (a step's venue types' and online spaces'
    meetings ask for ~60 keys, ~1.5 us each one by one)."""
    groups: dict[tuple[int, int], list[int]] = {}
    for i, (labelled, _) in enumerate(requests):
        groups.setdefault((id(labelled.draws.process), labelled.draws.step), []).append(i)
    keys: list[np.ndarray] = [np.zeros(0, np.uint64)] * len(requests)
    for members in groups.values():
        draws = requests[members[0]][0].draws
        names = [f"{requests[i][0].prefix}:{label}" for i in members for label in requests[i][1]]
        joined = draws.process._bases_at(draws.step, names)
        start = 0
        for i in members:
            keys[i] = joined[start:start + len(requests[i][1])]
            start += len(requests[i][1])
    return keys


def poisson_quantile(u: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """Smallest k with P(K <= k) > u for K ~ Poisson(lam), elementwise.

    The sum over terms runs only as long as some element still needs it, so it costs about
    max(k) passes; the means here are per-step rates, almost always well below 1. Large means
    (> 30) use scipy's quantile function.
    """
    k = np.zeros(u.shape, dtype=np.int64)
    if u.size == 0:
        return k
    large = lam > 30.0
    if large.any():
        from scipy.stats import poisson

        k[large] = poisson.ppf(u[large], lam[large]).astype(np.int64)
    small = np.flatnonzero(~large & (lam > 0))
    term = np.exp(-lam[small])
    cdf = term.copy()
    todo = u[small] >= cdf
    while todo.any():
        small, term, cdf = small[todo], term[todo], cdf[todo]
        k[small] += 1
        term = term * lam[small] / k[small]
        if not np.any(term > 0):
            break  # beyond double precision: u was within rounding of 1
        cdf = cdf + term
        todo = (u[small] >= cdf) & (term > 0)
    return k


@compiled.kernel
def _poisson_kernel(units, base, lam, exp_neg_lam):
    # `poisson_quantile` of the units' keyed uniforms, one unit at a time (its numpy loop runs a
    # pass of ~6 array calls per count: ~45 us a call for a handful of networks); -1 where the
    # mean is large (> 30), left to the numpy code. The same sums in the same order: the same counts
    k = np.zeros(len(units), dtype=np.int64)
    for i in range(len(units)):
        if lam[i] > 30.0:
            k[i] = -1
            continue
        if not lam[i] > 0:
            continue
        u = keyed_uniform(units[i], base)
        term = exp_neg_lam[i]
        cdf = term
        while u >= cdf:
            k[i] += 1
            term = term * lam[i] / k[i]
            if not term > 0:
                break  # beyond double precision: u was within rounding of 1
            cdf = cdf + term
    return k


class Streams:
    """The random numbers of one run: sequential streams for set-up, keyed ones for the run."""

    def __init__(self, seed: int, replication: tuple[int, ...] = ()):
        self.seed = int(seed)
        self.replication = tuple(int(r) for r in replication)
        self._cache: dict[str, np.random.Generator] = {}
        self._processes: dict[str, ProcessRandom] = {}

    def _sequence(self, name: str) -> np.random.SeedSequence:
        return np.random.SeedSequence(self.seed, spawn_key=(*self.replication, stream_key(name)))

    def get(self, name: str) -> np.random.Generator:
        """The sequential generator of set-up process `name` (the same object on every call)."""
        if name not in self._cache:
            self._cache[name] = np.random.default_rng(self._sequence(name))
        return self._cache[name]

    def process(self, name: str) -> ProcessRandom:
        """The keyed random numbers of run-time process `name`."""
        if name not in self._processes:
            state = self._sequence(f"keyed:{name}").generate_state(2, dtype=np.uint32)
            self._processes[name] = ProcessRandom(name, int(state[0]) | (int(state[1]) << 32))
        return self._processes[name]

    def integer_seed(self, name: str) -> int:
        """A plain integer seed for libraries that want one (Mesa's `Model(rng=...)`)."""
        return int(self._sequence(name).generate_state(1, dtype=np.uint32)[0])

    def describe(self) -> dict:
        return {"seed": self.seed, "replication": list(self.replication),
                "streams": sorted(self._cache), "keyed_processes": sorted(self._processes)}
