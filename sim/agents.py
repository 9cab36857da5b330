"""Mesa agents: persons and criminal networks, as thin views over the model's numpy state.

Behaviour that happens to everyone every step is vectorised in the model's components
(`sim/places`, `sim/recruitment`, `sim/crime`); agents are how a user, a notebook or the
dashboard looks at one person or one network.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.crime.origin import classify
from sim.population import STATUSES
from sim.vocabulary import CHANNELS, MEDIA, NO_NETWORK, ORIGINS, ROLES, SPECIALISMS

if TYPE_CHECKING:
    from sim.model import RecruitModel


class Person(mesa.Agent):
    """One person: a view of slot `slot` of the population columns."""

    def __init__(self, model: RecruitModel, slot: int):
        super().__init__(model)
        self.slot = slot

    @property
    def _pop(self):
        return self.model.pop

    @property
    def person_id(self) -> int:
        return int(self._pop.person_id[self.slot])

    @property
    def age(self) -> float:
        return float(self._pop.age[self.slot])

    @property
    def sex(self) -> str:
        return "M" if self._pop.sex[self.slot] else "F"

    @property
    def status(self) -> str:
        return STATUSES[self._pop.status[self.slot]]

    @property
    def it_skill(self) -> float:
        return float(self._pop.it_skill[self.slot])

    @property
    def specialism(self) -> str:
        return SPECIALISMS[self._pop.specialism[self.slot]]

    @property
    def propensity(self) -> float:
        return float(self._pop.propensity[self.slot])

    @property
    def financial_need(self) -> float:
        return float(self._pop.need[self.slot])

    @property
    def online_activity(self) -> float:
        return float(self._pop.online_activity[self.slot])

    @property
    def network_id(self) -> int | None:
        net = int(self._pop.network[self.slot])
        return None if net == NO_NETWORK else net

    @property
    def role(self) -> str | None:
        return ROLES[self._pop.role[self.slot]] if self.network_id is not None else None

    @property
    def recruited_through(self) -> str | None:
        """The channel through which this person joined their current network."""
        return CHANNELS[self._pop.join_channel[self.slot]] if self.network_id is not None else None

    @property
    def recruited_medium(self) -> str | None:
        return MEDIA[self._pop.join_medium[self.slot]] if self.network_id is not None else None

    @property
    def in_prison(self) -> bool:
        return bool(self._pop.prison_until[self.slot] >= 0)

    def __repr__(self) -> str:
        return f"Person(id={self.person_id}, age={self.age:.0f}, role={self.role}, network={self.network_id})"


class CriminalNetwork(mesa.Agent):
    """One criminal network: a view of row `network_id` of the network table."""

    def __init__(self, model: RecruitModel, network_id: int):
        super().__init__(model)
        self.network_id = network_id

    @property
    def _table(self):
        return self.model.networks

    @property
    def business_model(self) -> str:
        return self.model.business.names[self._table.business_model[self.network_id]]

    @property
    def role_counts(self) -> dict[str, int]:
        return dict(zip(ROLES, self._table.role_counts[self.network_id].tolist()))

    @property
    def size(self) -> int:
        return int(self._table.role_counts[self.network_id].sum())

    @property
    def capability(self) -> float:
        t, nid = self._table, self.network_id
        return float(self.model.business.capability(t.business_model[[nid]], t.role_counts[[nid]])[0])

    @property
    def origin(self) -> str:
        t, nid = self._table, self.network_id
        code = classify(t.core_offline[nid], t.core_online[nid], t.growth_offline[nid], t.growth_online[nid], self.model.config.origin)
        return ORIGINS[int(code)]

    @property
    def founded_step(self) -> int:
        return int(self._table.founded_step[self.network_id])

    def members(self) -> list[Person]:
        slots = np.flatnonzero(self.model.pop.network == self.network_id)
        return [self.model.person_agents[s] for s in slots]

    def __repr__(self) -> str:
        return f"CriminalNetwork(id={self.network_id}, {self.business_model}, size={self.size}, origin={self.origin})"
