"""Self-selection: motivated people who know of a network (through a tie to a member or an
online space they share with one) approach it unasked (Bekkers, Leukfeldt & Kleemans 2024).
A volunteer who knew the network through a member is tied to that member once in
(co_offending); one who found it online, to a member the network picks."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field

from sim import sorted_sets
from sim.crime.roles import fits
from sim.crime.saturation import PER
from sim.places.online_spaces import RECRUITING_KINDS
from sim.recruitment.attempts import resolve
from sim.recruitment.base import RecruitmentRule, RuleParams
from sim.recruitment.registry import register
from sim.sampling import first_occurrence
from sim.scenario.params import prob, rate
from sim.vocabulary import MEDIUM, OFFLINE_LAYERS, ROLE

if TYPE_CHECKING:
    from sim.recruitment.market import RecruitmentMarket


class SelfSelectionParams(RuleParams):
    approach_rate: float = rate(0.2, "approaches by a motivated person who is aware of at least one recruiting network")
    min_propensity: float = prob(0.45, "least criminal propensity of a person who approaches a network")
    accept_base: float = prob(0.7, "chance that a network with an open role takes a fitting volunteer")
    online_trust: float = prob(0.4, "trust a network puts in a volunteer who found it online (offline: the tie's strength)")
    notice_window_weeks: float = Field(1.0, gt=0, le=520, description="how long a member's presence in an online space stays visible (posts, profile): a volunteer who uses the space notices a recruiting network there as if both had been online within this window [weeks]")


@register("self_selection")
class SelfSelectionRule(RecruitmentRule):
    Params = SelfSelectionParams
    medium = "offline"  # per approach in step(): online when awareness came from an online space

    def step(self, market: RecruitmentMarket) -> None:
        m, p, pop = self.model, self.params, self.model.pop
        draws = self.random.at(market.step)
        members = m.membership.members()
        members = members[market.intensity[pop.network[members]] > 0]
        if len(members) == 0:
            return
        # each motivated person, however many routes they know a network by, approaches at one rate:
        # a Poisson number per step (repeatable), fewer if warned (cease-and-desist). Most make none
        # in a step; drawn first (keyed by person), so that only those who do have their routes
        # looked up (the same draws, for a few persons instead of every motivated one)
        motivated = np.flatnonzero(market.available & (pop.propensity >= p.min_propensity))
        approaches = draws.poisson(motivated, m.clock.expected(p.approach_rate) * (1.0 - pop.deterrence[motivated]), "approaches")
        some = approaches > 0
        approaching, approaches = motivated[some], approaches[some]
        if len(approaching) == 0:
            return
        person, net, trust, medium, contact = self._routes(market, draws, members, approaching)
        keep = first_occurrence(person, draws.uniform(person, "route", with_units=m.networks.draw_keys(net)))
        person, net, trust, medium, contact = person[keep], net[keep], trust[keep], medium[keep], contact[keep]
        count = approaches[np.searchsorted(approaching, person)]  # (every route's person is one who approaches)
        roles = self._best_open_role(market, person, net, trust)
        offer = roles >= 0  # no role the network would trust this volunteer with: no approach
        person, net, trust, medium, roles, count, contact = (x[offer] for x in (person, net, trust, medium, roles, count, contact))
        for attempt in range(int(count.max(initial=0))):
            again = (count > attempt) & market.available[person]
            resolve(self, market, draws, net[again], person[again], roles[again], trust[again], medium[again],
                    volunteer=True, attempt=attempt, recruiters=contact[again])

    def _routes(self, market: RecruitmentMarket, draws, members: np.ndarray, persons: np.ndarray):
        """(person, network, trust, medium, member known: -1 online) of every way one of `persons`
        (sorted slots) knows of a recruiting network."""
        m, p, pop = self.model, self.params, self.model.pop
        person, net, trust, medium, contact = [], [], [], [], []
        # aware through an offline tie to a member
        ties = m.ties.incident(members, market.step, OFFLINE_LAYERS)
        ok = sorted_sets.isin(ties.alter, persons)
        person.append(ties.alter[ok])
        net.append(pop.network[ties.ego[ok]])
        trust.append(ties.strength[ok])
        medium.append(np.full(ok.sum(), MEDIUM["offline"]))
        contact.append(ties.ego[ok])
        # aware through an online space both use
        free_members = members[pop.free()[members]]
        for code in m.online.codes_of(RECRUITING_KINDS):
            seekers, nets = self._noticed_online(market, draws, free_members, persons, code)
            person.append(seekers)
            net.append(nets)
            trust.append(np.full(len(seekers), p.online_trust))
            medium.append(np.full(len(seekers), MEDIUM["online"]))
            contact.append(np.full(len(seekers), -1, dtype=np.int64))
        return tuple(np.concatenate(x) for x in (person, net, trust, medium, contact))

    def _noticed_online(self, market: RecruitmentMarket, draws, members, seekers, code: int):
        """Volunteers (of `seekers`: in a step, the motivated persons who approach a network) who
        notice a recruiting network in online space `code`, and that network; `members`: the
        recruiting members not in prison.

        A member's presence stays visible for `notice_window_weeks` (w): a volunteer visiting v
        times a year notices a network there with chance (1 - exp(-v w)) (1 - exp(-V w)), where V
        is the recruiting members' visits per year per 10,000 persons; which network, in
        proportion to its members' visits. Rates, not this step's visitors, decide, so yearly
        approaches do not depend on the step length (requiring both online in the same step would
        scale them with dt). V is a density, not the town's total: a volunteer sees a bounded
        part of a space, so what decides is how common recruiting members are there; with the
        total, the chance saturated sooner in a bigger town (docs/ODD.md 7.10.5).
        """
        pop, w = self.model.pop, self.params.notice_window_weeks / 52.0
        space = self.model.online.spaces[code]
        by_net = np.bincount(pop.network[members], weights=self.model.online.yearly_visits_to(space, members),
                             minlength=len(market.intensity))
        total = by_net.sum()
        rate = self.model.online.yearly_visits_to(space, seekers)  # of these only, not of the whole town
        seekers, rate = seekers[rate > 0], rate[rate > 0]
        if total <= 0 or len(seekers) == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        per_10k = total * (PER / pop.size)  # exactly the total at 10,000 persons, the calibrated baseline
        chance = -np.expm1(-rate * w) * -np.expm1(-per_10k * w)
        seekers = seekers[draws.uniform(seekers, f"noticed:{code}") < chance]
        nets = np.flatnonzero(by_net > 0)
        cum = np.cumsum(by_net[nets]) / total
        which = np.searchsorted(cum, draws.uniform(seekers, f"network:{code}"), side="right")
        return seekers, nets[np.minimum(which, len(nets) - 1)]

    def _best_open_role(self, market: RecruitmentMarket, person: np.ndarray, net: np.ndarray, trust: np.ndarray) -> np.ndarray:
        """The open role of the network that the volunteer fits best (core only if trusted enough)."""
        m = self.model
        enabler_fits = m.business.enabler_fits[m.networks.business_model[net]]
        scores = fits(m.pop, person, enabler_fits)
        scores = np.where(market.role_weights[net] > 0, scores, -1.0)
        untrusted = trust < m.config.recruitment.acceptance.min_core_trust
        scores[untrusted, ROLE["core"]] = -1.0
        best = np.argmax(scores, axis=1)
        return np.where(scores[np.arange(len(best)), best] >= 0, best, -1)
