"""Recruitment by adverts on social media and chat channels, mostly for money mules, targeted
at young people (Bekkers, Leukfeldt & Kleemans 2024).

Networks post in a random order each step (keyed by network: older networks get no first pick).
Each advert reaches a fixed number of readers (`reach`), not a share of the audience: the
number of networks, and so of adverts, grows with the population, and so does the audience, so
a count keeps the adverts a person sees per year the same at any population size (a share
would make them grow with it; docs/ODD.md 7.10.4)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field

from sim.places.online_spaces import ADVERT_KINDS
from sim.recruitment.attempts import resolve
from sim.recruitment.base import RecruitmentRule, RuleParams
from sim.recruitment.registry import register
from sim.sampling import smallest
from sim.scenario.params import AgeBand, prob, rate
from sim.vocabulary import ROLE

if TYPE_CHECKING:
    from sim.recruitment.market import RecruitmentMarket


class AdvertsParams(RuleParams):
    advert_rate: float = rate(4.0, "adverts posted by a network with room for money mules (times its recruitment intensity)")
    reach: int = Field(30, ge=1, le=1_000_000, description="social-media or chat users in the target ages who see one advert (the heavier users likelier); a count, not a share of the audience: adverts grow with the population, so a share would make the adverts each person sees grow with it (assumption)")
    target_age: AgeBand = Field(default_factory=lambda: AgeBand(min=16, max=30), description="ages the adverts target")
    trust: float = prob(0.3, "trust in an advert's promise (lower than in a personal tie)")
    accept_base: float = prob(0.15, "acceptance probability of a fully motivated, fitting reader")


@register("adverts")
class AdvertsRule(RecruitmentRule):
    Params = AdvertsParams
    medium = "online"

    def step(self, market: RecruitmentMarket) -> None:
        m, p, pop = self.model, self.params, self.model.pop
        draws = self.random.at(market.step)
        mule = ROLE["money_mule"]
        nets = m.networks.active_ids()
        wants = market.intensity[nets] * (market.role_weights[nets, mule] > 0)
        # adverts are repeatable: a Poisson number per network and step
        adverts = draws.poisson(m.networks.draw_keys(nets), m.clock.expected(p.advert_rate * wants), "adverts")
        nets, adverts = nets[adverts > 0], adverts[adverts > 0]
        if len(nets) == 0:
            return
        # an advert stays up a while: its readers are users of social media and chat in the target
        # ages, likelier the more they visit (not only those online in this step, which would tie
        # the readership to the step length)
        usage = m.online.yearly_visits(ADVERT_KINDS)
        audience = np.flatnonzero(market.available & (usage > 0) & (pop.age >= p.target_age.min) & (pop.age < p.target_age.max))
        order = draws.ranks(m.networks.draw_keys(nets), "order")  # no network gets first pick by age
        for net, count in zip(nets[order], adverts[order]):
            for advert in range(int(count)):
                audience = audience[market.available[audience]]
                if len(audience) == 0:
                    return
                readers = self._readers(draws, audience, usage[audience], int(m.networks.draw_keys(net)), advert)
                resolve(self, market, draws, np.full(len(readers), net), readers, np.full(len(readers), mule),
                        np.full(len(readers), p.trust), attempt=advert)

    def _readers(self, draws, audience: np.ndarray, usage: np.ndarray, network_key: int, advert: int) -> np.ndarray:
        """`reach` readers drawn without replacement, with chances proportional to usage: the
        smallest exponential keys of rate `usage` (Efraimidis & Spirakis 2006), keyed by person."""
        keys = draws.exponential(audience, 1.0 / usage, f"readers:{advert}", with_units=network_key)
        return audience[smallest(keys, self.params.reach)]
