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
from sim.sampling import KeyedCircle
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
        audience = np.flatnonzero(market.available & (pop.age >= p.target_age.min) & (pop.age < p.target_age.max))
        usage = m.online.yearly_visits(ADVERT_KINDS, audience)  # of the target ages only, not of the whole town
        audience, usage = audience[usage > 0], usage[usage > 0]
        if len(audience) == 0:
            return
        readership = Readership(audience, usage, m.online.most_yearly_visits(ADVERT_KINDS), draws)
        order = draws.ranks(m.networks.draw_keys(nets), "order")  # no network gets first pick by age
        for net, count in zip(nets[order], adverts[order]):
            key = int(m.networks.draw_keys(net))
            for advert in range(int(count)):
                readers = readership.readers(key, advert, p.reach, market.available)
                if len(readers):
                    resolve(self, market, draws, np.full(len(readers), net), readers, np.full(len(readers), mule),
                            np.full(len(readers), p.trust), attempt=advert)


class Readership:
    """The step's audience of adverts and who reads which advert.

    An advert's readers are the first `reach` available persons from a keyed point (by network
    and advert) on the step's keyed circle of the audience (sim.sampling.KeyedCircle) who see it:
    a person passed on the way sees it with chance `usage / most usage` (a draw keyed by person,
    network and advert), so a person's chance to read an advert is proportional to their use of
    social media and chat. An advert costs the persons it passes, not the whole audience (a
    weighted draw over the audience per advert grew with adverts x audience, quadratically in the
    population), and a person's chance does not hinge on others' draws: readers stay paired
    across runs that differ elsewhere.
    """

    def __init__(self, audience: np.ndarray, usage: np.ndarray, most_usage: float, draws):
        self.audience = audience
        # displaced visits may take a person past the most routine use (or make all of it: most 0)
        self.sees = np.minimum(usage / most_usage, 1.0) if most_usage > 0 else np.ones(len(audience))
        self.draws = draws
        self.circle = KeyedCircle(draws.uniform(audience, "circle"))

    def readers(self, network_key: int, advert: int, reach: int, available: np.ndarray) -> np.ndarray:
        """The readers of a network's advert (fewer than `reach` if one round of the circle finds fewer)."""
        start = self.draws.uniform([network_key], f"start:{advert}")[0]

        def reads(idx: np.ndarray) -> np.ndarray:
            persons = self.audience[idx]
            sees = self.draws.uniform(persons, f"sees:{advert}", with_units=network_key) < self.sees[idx]
            return available[persons] & sees

        return self.audience[self.circle.sample(start, reach, reads)]
