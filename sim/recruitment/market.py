"""This step's recruitment market: who can be approached, what each network wants, who met whom.

The model opens one market per step, after the meetings, and passes it to every recruitment
rule and to founding: it is the only state they share. A rule that takes someone in marks them
unavailable here and asks the market to re-read the networks' demand, so the next rule sees the
change (rules run in a random order each step).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.crime import co_offending
from sim.crime.business import BusinessModels
from sim.crime.network_table import NetworkTable
from sim.places.venues import OfflineMeetings
from sim.population import Population
from sim.vocabulary import NO_NETWORK


@dataclass
class RecruitmentMarket:
    step: int
    available: np.ndarray  # bool per person: free, in no network, old enough
    meetings: OfflineMeetings  # this step's offline meetings (venue recruitment works on them)
    intensity: np.ndarray  # per network id: recruitment intensity (0 = not recruiting)
    role_weights: np.ndarray  # per network id and role: share of recruitment effort
    # what recruitment leaves for enforcement: (network id, added detection hazard per year) of
    # each informant a network took in on an infiltrated space
    informants: list[tuple[int, float]] = field(default_factory=list)
    # (recruiters, recruits) of the step's recruitments: their co-offending ties are made once
    # recruitment ends, in one merge into the tie store. One per recruitment cost a pass over the
    # tie store's fresh run each: quadratic in the population (at 10 million persons, 2 of 3 stack
    # samples of a step were there).
    # No rule reads co-offending ties, so the ties are the same.
    recruited_by: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)
    _read_from: tuple = field(default=(), init=False, repr=False)  # what the demand was last read from (`read_demand`)

    def tie_recruits(self, ties) -> None:
        """Make the co-offending ties of the recruitments so far (`recruited_by`): the model calls
        this when the step's recruitment ends."""
        if self.recruited_by:
            recruiters, recruits = (np.concatenate(x) for x in zip(*self.recruited_by))
            co_offending.tie_recruits(ties, self.step, recruiters, recruits)
            self.recruited_by.clear()

    @classmethod
    def open(cls, step: int, pop: Population, min_age: float, meetings: OfflineMeetings,
             networks: NetworkTable, business: BusinessModels, growth) -> RecruitmentMarket:
        available = pop.free() & (pop.network == NO_NETWORK) & (pop.age >= min_age)
        market = cls(step, available, meetings, np.zeros(0), np.zeros((0, 0)))
        market.read_demand(networks, business, growth)
        return market

    def read_demand(self, networks: NetworkTable, business: BusinessModels, growth) -> None:
        """Each network's recruitment intensity and role weights, from its current roles."""
        # read before every rule, and most rules recruit nobody at a step: what the demand is
        # worked out from, compared byte for byte, says whether it can have changed
        read_from = (networks.n, growth.growth_slack, growth.growth_rate_multiplier, *(
            column[: networks.n].tobytes() for column in (networks.active, networks.business_model, networks.role_counts)))
        if read_from == self._read_from:
            return
        self._read_from = read_from
        self.intensity = np.zeros(networks.n)
        self.role_weights = np.zeros((networks.n, networks.role_counts.shape[1]))
        ids = networks.active_ids()
        self.intensity[ids], self.role_weights[ids] = business.demand(
            networks.business_model[ids], networks.role_counts[ids], growth.growth_slack, growth.growth_rate_multiplier)

    def taken(self, slots) -> None:
        """Persons who joined a network (or founded one) this step: no longer approachable."""
        self.available[slots] = False
