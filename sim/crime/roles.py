"""How well a person fits a role, and how motivated they are to take it.

Fit follows the research on roles: core members are motivated offenders; technical enablers
need IT skill in the business model's specialisms (Bijlenga & Kleemans 2018); money mules are
mostly young (Bekkers, Leukfeldt & Kleemans 2024). Motivation mixes criminal propensity and
financial need (mules: mostly need); living with a partner lowers it (Weulen Kranenbarg et al.
2018). The shapes below are assumptions, documented in docs/ODD.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim import compiled
from sim.population import YOUTH_AGE, Population
from sim.rng import per_unit
from sim.vocabulary import ROLE, ROLES, SPECIALISM

if TYPE_CHECKING:
    from sim.scenario.schema import AcceptanceParams

CORE_FULL_FIT_PROPENSITY = 0.5  # propensity at which a person fully fits a core role
OFF_SPECIALISM_FIT = 0.35  # technical fit of a skilled person outside the model's specialisms
NON_SPECIALIST_RECRUITER_FIT = 0.4  # recruiter fit without social-engineering specialism
MULE_AGE_FIT = ((16.0, 0.3), (30.0, 1.0), (45.0, 0.5), (np.inf, 0.2))  # (age below, fit)
N_ROLES = len(ROLES)


_MULE_AGE_BOUNDS = np.array([b for b, _ in MULE_AGE_FIT])
_MULE_AGE_FITS = np.array([v for _, v in MULE_AGE_FIT])
_CORE, _ENABLER, _RECRUITER, _MULE = (ROLE[name] for name in ("core", "technical_enabler", "recruiter", "money_mule"))
_SOCIAL_ENGINEERING, _CASH_OUT = SPECIALISM["social_engineering"], SPECIALISM["cash_out"]


def mule_age_fit(age: np.ndarray) -> np.ndarray:
    return _MULE_AGE_FITS[np.searchsorted(_MULE_AGE_BOUNDS, age, side="right")]


# Recruitment asks for fit and motivation ~20 times a step, each for a few dozen persons: as numpy,
# ~20 array operations a call (25-30 us at 10,000 persons, ~0.4 ms a step in all, measured); the
# kernels below do each in one pass, value by value with the same arithmetic as their numpy twins.

def fit(pop: Population, slots: np.ndarray, roles: np.ndarray, enabler_fits: np.ndarray) -> np.ndarray:
    """Fit (0-1) of each person for the role asked; `enabler_fits` is (k, n_specialisms) bool per attempt."""
    slots, roles = np.asarray(slots, dtype=np.int64), np.asarray(roles, dtype=np.int64)
    if compiled.enabled():
        return _fit_kernel(*_fit_columns(pop), slots, roles, enabler_fits, _MULE_AGE_BOUNDS, _MULE_AGE_FITS)
    return _fits_numpy(pop, slots, enabler_fits)[np.arange(len(slots)), roles]


def fits(pop: Population, slots: np.ndarray, enabler_fits: np.ndarray) -> np.ndarray:
    """Fit (0-1) of each person for each role: one row per person, one column per role (ROLES' order)."""
    slots = np.asarray(slots, dtype=np.int64)
    if compiled.enabled():
        return _fits_kernel(*_fit_columns(pop), slots, enabler_fits, _MULE_AGE_BOUNDS, _MULE_AGE_FITS)
    return _fits_numpy(pop, slots, enabler_fits)


def _fit_columns(pop: Population) -> tuple[np.ndarray, ...]:
    return pop.specialism, pop.propensity, pop.it_skill, pop.age


def _fits_numpy(pop: Population, slots: np.ndarray, enabler_fits: np.ndarray) -> np.ndarray:
    spec = pop.specialism[slots]
    core = np.minimum(1.0, pop.propensity[slots] / CORE_FULL_FIT_PROPENSITY)
    tech = pop.it_skill[slots] * np.where(enabler_fits[np.arange(len(slots)), spec], 1.0, OFF_SPECIALISM_FIT)
    recruiter = np.where(spec == SPECIALISM["social_engineering"], 1.0, NON_SPECIALIST_RECRUITER_FIT)
    mule = mule_age_fit(pop.age[slots]) * np.where(spec == SPECIALISM["cash_out"], 1.0, 0.8)
    by_role = {"core": core, "technical_enabler": tech, "recruiter": recruiter, "money_mule": mule}
    return np.stack([by_role[role] for role in ROLES], axis=1)


@compiled.kernel
def _role_fit(role, spec, propensity, it_skill, age, enabler_fit, mule_bounds, mule_fits):
    # one person's fit for one role, as `_fits_numpy` works it out
    if role == _CORE:
        return min(1.0, propensity / CORE_FULL_FIT_PROPENSITY)
    if role == _ENABLER:
        return it_skill * (1.0 if enabler_fit else OFF_SPECIALISM_FIT)
    if role == _RECRUITER:
        return 1.0 if spec == _SOCIAL_ENGINEERING else NON_SPECIALIST_RECRUITER_FIT
    band = 0
    while band < len(mule_bounds) and mule_bounds[band] <= age:  # (searchsorted, side="right")
        band += 1
    return mule_fits[band] * (1.0 if spec == _CASH_OUT else 0.8)


@compiled.kernel
def _fit_kernel(specialism, propensity, it_skill, age, slots, roles, enabler_fits, mule_bounds, mule_fits):
    out = np.empty(len(slots))
    for i in range(len(slots)):
        s = slots[i]
        out[i] = _role_fit(roles[i], specialism[s], propensity[s], it_skill[s], age[s], enabler_fits[i, specialism[s]],
                           mule_bounds, mule_fits)
    return out


@compiled.kernel
def _fits_kernel(specialism, propensity, it_skill, age, slots, enabler_fits, mule_bounds, mule_fits):
    out = np.empty((len(slots), N_ROLES))
    for i in range(len(slots)):
        s = slots[i]
        for role in range(N_ROLES):
            out[i, role] = _role_fit(role, specialism[s], propensity[s], it_skill[s], age[s], enabler_fits[i, specialism[s]],
                                     mule_bounds, mule_fits)
    return out


def motivation(pop: Population, slots: np.ndarray, roles: np.ndarray, params: AcceptanceParams) -> np.ndarray:
    """Willingness (0-1) of each person to take the role asked, after any deterrence (warnings)
    and, for money mules, awareness (campaigns) interventions left."""
    slots, roles = np.asarray(slots, dtype=np.int64), np.asarray(roles, dtype=np.int64)
    if compiled.enabled():
        return _motivation_kernel(*_motivation_columns(pop), slots, roles, *_motivation_weights(params))
    return _motivation_numpy(pop, slots, roles, *_motivation_weights(params))


def scaled_promise(pop: Population, slots: np.ndarray, roles: np.ndarray, enabler_fits: np.ndarray, params: AcceptanceParams,
                   scale, motivated: bool = True) -> np.ndarray:
    """`scale * fit(...) * motivation(...)` of each person for the role asked, multiplied in that
    order, in one pass (recruitment asks for it a few times a step, for a few persons each:
    one kernel call instead of two and the products); `motivated=False`: `scale * fit(...)`."""
    slots, roles = np.asarray(slots, dtype=np.int64), np.asarray(roles, dtype=np.int64)
    scale = per_unit(np.asarray(scale, dtype=float), slots.shape)
    if compiled.enabled():
        return _scaled_promise_kernel(_fit_columns(pop), _motivation_columns(pop), slots, roles, enabler_fits, _MULE_AGE_BOUNDS,
                                      _MULE_AGE_FITS, scale, motivated, _motivation_weights(params))
    promise = scale * fit(pop, slots, roles, enabler_fits)
    return promise * motivation(pop, slots, roles, params) if motivated else promise


def _motivation_columns(pop: Population) -> tuple[np.ndarray, ...]:
    return pop.propensity, pop.need, pop.ever_member, pop.desisted, pop.partner, pop.age, pop.deterrence, pop.mule_awareness


def _motivation_weights(params: AcceptanceParams) -> tuple[float, ...]:
    return (params.propensity_weight, 1.0 - params.mule_need_weight, params.experience_bonus, params.partner_factor,
            params.youth_skill_factor)


@compiled.kernel
def _scaled_promise_kernel(fit_columns, motivation_columns, slots, roles, enabler_fits, mule_bounds, mule_fits, scale, motivated,
                           weights):
    fits = _fit_kernel(*fit_columns, slots, roles, enabler_fits, mule_bounds, mule_fits)
    out = np.empty(len(slots))
    for i in range(len(slots)):
        out[i] = scale[i] * fits[i]
    if motivated:
        motivations = _motivation_kernel(*motivation_columns, slots, roles, *weights)
        for i in range(len(slots)):
            out[i] = out[i] * motivations[i]
    return out


def _motivation_numpy(pop, slots, roles, propensity_weight, mule_propensity_weight, experience_bonus, partner_factor,
                      youth_skill_factor) -> np.ndarray:
    prop, need = pop.propensity[slots], pop.need[slots]
    is_mule = roles == ROLE["money_mule"]
    w = np.where(is_mule, mule_propensity_weight, propensity_weight)
    m = w * prop + (1.0 - w) * need
    m = m + experience_bonus * (pop.ever_member[slots] & ~pop.desisted[slots])
    m = m * np.where(pop.partner[slots], partner_factor, 1.0)
    young_tech = (roles == ROLE["technical_enabler"]) & (pop.age[slots] < YOUTH_AGE)
    m = m * np.where(young_tech, youth_skill_factor, 1.0)
    m = m * (1.0 - pop.deterrence[slots]) * np.where(is_mule, 1.0 - pop.mule_awareness[slots], 1.0)
    return np.clip(m, 0.0, 1.0)


@compiled.kernel
def _motivation_kernel(propensity, need, ever_member, desisted, partner, age, deterrence, mule_awareness, slots, roles,
                       propensity_weight, mule_propensity_weight, experience_bonus, partner_factor, youth_skill_factor):
    # `_motivation_numpy` value by value, every operation in its order (x 1.0 and + 0.0 included)
    out = np.empty(len(slots))
    for i in range(len(slots)):
        s, is_mule = slots[i], roles[i] == _MULE
        w = mule_propensity_weight if is_mule else propensity_weight
        m = w * propensity[s] + (1.0 - w) * need[s]
        m = m + experience_bonus * (1.0 if ever_member[s] and not desisted[s] else 0.0)
        m = m * (partner_factor if partner[s] else 1.0)
        m = m * (youth_skill_factor if roles[i] == _ENABLER and age[s] < YOUTH_AGE else 1.0)
        m = m * (1.0 - deterrence[s]) * ((1.0 - mule_awareness[s]) if is_mule else 1.0)
        out[i] = min(max(m, 0.0), 1.0)
    return out


def sample_roles(weights: np.ndarray, u: np.ndarray) -> np.ndarray:
    """One role per row of a (k, n_roles) weight matrix, with probability proportional to weight,
    from a (k, n_roles) array of uniforms keyed by (row, role): an exponential race, so a change
    in one role's weight changes the pick only if that role wins or comes to win (a row with no
    positive weight gets role 0)."""
    with np.errstate(divide="ignore"):
        time = np.where(weights > 0, -np.log1p(-np.asarray(u, dtype=float)) / weights, np.inf)
    return np.argmin(time, axis=1)


def role_draws(draws, units, label: str, with_units=None) -> np.ndarray:
    """(k, n_roles) uniforms for `sample_roles`, keyed by unit, role (and `with_units`, e.g. the
    approacher with the person approached)."""
    units = np.asarray(units, dtype=np.int64)
    n = len(ROLES)
    role = np.tile(np.arange(n), len(units))
    if with_units is not None:
        role = np.repeat(np.broadcast_to(np.asarray(with_units, dtype=np.int64), units.shape), n) * n + role
    return draws.uniform(np.repeat(units, n), label, with_units=role).reshape(len(units), n)
