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

from sim.population import YOUTH_AGE, Population
from sim.vocabulary import ROLE, ROLES, SPECIALISM

if TYPE_CHECKING:
    from sim.scenario.schema import AcceptanceParams

CORE_FULL_FIT_PROPENSITY = 0.5  # propensity at which a person fully fits a core role
OFF_SPECIALISM_FIT = 0.35  # technical fit of a skilled person outside the model's specialisms
NON_SPECIALIST_RECRUITER_FIT = 0.4  # recruiter fit without social-engineering specialism
MULE_AGE_FIT = ((16.0, 0.3), (30.0, 1.0), (45.0, 0.5), (np.inf, 0.2))  # (age below, fit)


def mule_age_fit(age: np.ndarray) -> np.ndarray:
    bounds = np.array([b for b, _ in MULE_AGE_FIT])
    values = np.array([v for _, v in MULE_AGE_FIT])
    return values[np.searchsorted(bounds, age, side="right")]


def fit(pop: Population, slots: np.ndarray, roles: np.ndarray, enabler_fits: np.ndarray) -> np.ndarray:
    """Fit (0-1) of each person for the role asked; `enabler_fits` is (k, n_specialisms) bool per attempt."""
    return np.choose(roles, fits(pop, slots, enabler_fits))


def fits(pop: Population, slots: np.ndarray, enabler_fits: np.ndarray) -> list[np.ndarray]:
    """Fit (0-1) of each person for each role, one array per role in the order of ROLES."""
    spec = pop.specialism[slots]
    core = np.minimum(1.0, pop.propensity[slots] / CORE_FULL_FIT_PROPENSITY)
    tech = pop.it_skill[slots] * np.where(enabler_fits[np.arange(len(slots)), spec], 1.0, OFF_SPECIALISM_FIT)
    recruiter = np.where(spec == SPECIALISM["social_engineering"], 1.0, NON_SPECIALIST_RECRUITER_FIT)
    mule = mule_age_fit(pop.age[slots]) * np.where(spec == SPECIALISM["cash_out"], 1.0, 0.8)
    by_role = {"core": core, "technical_enabler": tech, "recruiter": recruiter, "money_mule": mule}
    return [by_role[role] for role in ROLES]


def motivation(pop: Population, slots: np.ndarray, roles: np.ndarray, params: AcceptanceParams) -> np.ndarray:
    """Willingness (0-1) of each person to take the role asked, after any deterrence (warnings)
    and, for money mules, awareness (campaigns) interventions left."""
    prop, need = pop.propensity[slots], pop.need[slots]
    is_mule = roles == ROLE["money_mule"]
    w = np.where(is_mule, 1.0 - params.mule_need_weight, params.propensity_weight)
    m = w * prop + (1.0 - w) * need
    m = m + params.experience_bonus * (pop.ever_member[slots] & ~pop.desisted[slots])
    m = m * np.where(pop.partner[slots], params.partner_factor, 1.0)
    young_tech = (roles == ROLE["technical_enabler"]) & (pop.age[slots] < YOUTH_AGE)
    m = m * np.where(young_tech, params.youth_skill_factor, 1.0)
    m = m * (1.0 - pop.deterrence[slots]) * np.where(is_mule, 1.0 - pop.mule_awareness[slots], 1.0)
    return np.clip(m, 0.0, 1.0)


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
