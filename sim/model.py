"""The recruitsim model: one Mesa `Model` that runs a scenario step by step.

Each step, in order (see docs/ODD.md, "Process overview and scheduling"):
 0. intervention effects on people fade; interventions due begin, act or end;
 1. people age; some leave and newcomers take their place; prisoners due are released;
 2. people visit venues and online spaces; meetings make and strengthen ties; every
    `ties.prune_every` steps faded ties are forgotten and newcomers make their social ties;
 3. networks recruit through every enabled rule (in a random order each step);
 4. motivated people found new networks;
 5. networks offend; police detect networks and mules and arrest; members desist;
    headless networks regroup, failing ones dissolve;
 6. the step is recorded.
"""

from __future__ import annotations

import mesa
import numpy as np

from sim.agents import CriminalNetwork, Person
from sim.crime import desistance, enforcement, founding, lifecycle, offending
from sim.crime.business import BusinessModels
from sim.crime.membership import Membership
from sim.crime.network_table import NetworkTable
from pydantic import TypeAdapter, ValidationError

from sim.errors import ScenarioError
from sim.interventions import INTERVENTIONS
from sim.interventions.base import Intervention
from sim.interventions.effects import Effects
from sim.interventions.schedule import InterventionSchedule
from sim.initial_ties import build_initial_ties, family_ties, social_ties
from sim.outputs.recorder import Recorder
from sim.outputs.results import RunResults
from sim.outputs.snapshots import network_snapshot, timeseries_columns, timeseries_row
from sim.places.online_spaces import OnlineSpaces
from sim.places.venues import OfflineMeetings, Venues
from sim.population import Population
from sim.recruitment import RULES
from sim.rng import Streams
from sim.scenario.schema import InterventionSpec, Scenario
from sim.ties import TieStore
from sim.timing import Clock
from sim.vocabulary import LAYER, NO_NETWORK


_INTERVENTION_ADAPTER = TypeAdapter(InterventionSpec)


class RecruitModel(mesa.Model):
    """Recruitment into cybercriminal networks through offline and online ties.

    Args:
        scenario: the validated scenario (defaults: the schema's defaults).
        replication: extra seed-sequence key, so replication i of every scenario shares draws.
    """

    def __init__(self, scenario: Scenario | None = None, *, replication: tuple[int, ...] = ()):
        params = scenario if scenario is not None else Scenario()
        streams = Streams(params.seed, replication)
        super().__init__(rng=streams.integer_seed("mesa"))
        self.params = params
        self.streams = streams
        self.clock = Clock(params.step)
        self.year_decay = float(np.exp(-self.clock.dt))  # one-year exponential window
        self.step_now = 0
        self._last_snapshot_step = 0
        self.pop = Population(params.population, self.clock, streams.get("population"))
        self.venues = Venues(params.places, self.pop, self.clock, streams.get("venues"))
        self.online = OnlineSpaces(params.places, self.pop, self.clock, streams.get("online"))
        self.ties = TieStore(self.pop.size, params.ties, self.clock)
        self.tie_rng = streams.get("ties.new")
        self._unsettled: list[np.ndarray] = []  # newcomers waiting for their social ties
        build_initial_ties(self.ties, self.pop, self.venues, params.ties, streams.get("initial_ties"))
        self.business = BusinessModels(params.networks)
        self.networks = NetworkTable()
        self.recorder = Recorder(self.pop)
        self.membership = Membership(self.pop, self.networks, self.recorder, self.clock.dt)
        self.rules = [rule(self, getattr(params.recruitment.rules, name)) for name, rule in RULES.items()
                      if getattr(params.recruitment.rules, name).enabled]
        self.effects = Effects(self.pop, self.online, self.clock)  # all that interventions change, by owner
        self.intervention_schedule = InterventionSchedule(self.clock)
        self.interventions = [self.intervention_schedule.add(INTERVENTIONS[spec.type](self, spec), f"interventions[{i}]")
                              for i, spec in enumerate(params.interventions)]
        self.person_agents = [Person(self, slot) for slot in range(self.pop.size)]
        self.network_agents: dict[int, CriminalNetwork] = {}
        self.offline_meetings = OfflineMeetings(*(np.zeros(0, np.int64),) * 3, np.zeros(0, bool))
        self.refresh_available()
        founding.seed_initial_networks(self, streams.get("founding.initial"))
        self.update_demand()

    # ------------------------------------------------------------------ the step
    def step(self) -> None:
        self.step_now = int(self.time)
        self.effects.fade_to(self.step_now)  # each wave on persons by its own half-life; new ones start at full strength
        self.intervention_schedule.step(self.step_now)
        self._turnover()
        enforcement.release(self)
        self._meet()
        if self.step_now % self.params.ties.prune_every == 0:
            self._maintain_ties()
        self._recruit()
        founding.found_new_networks(self, self.streams.get("founding"))
        offending.offend(self, self.streams.get("offending"))
        enforcement.detect_networks(self, self.streams.get("enforcement.networks"))
        enforcement.detect_mules(self, self.streams.get("enforcement.mules"))
        desistance.desist(self, self.streams.get("desistance"))
        lifecycle.regroup(self, self.streams.get("regroup"))
        lifecycle.dissolve(self)
        self._record()

    def _turnover(self) -> None:
        """Ageing, exits and entries; a newcomer joins a host's household and arrives with social ties."""
        changed = self.pop.age_one_step()
        leavers = self.pop.leavers()
        if len(leavers):
            self.membership.leave(self.step_now, leavers, "exit")
            self.ties.remove_persons(leavers)
            self.online.forget_persons(leavers)
            hosts = self.pop.renew(leavers, self.step_now)
            self.venues.assign(leavers)
            self._family_ties_of_newcomers(leavers, hosts)
            self._unsettled.append(leavers)
            for slot in leavers:
                self.person_agents[slot].remove()
                self.person_agents[slot] = Person(self, int(slot))
        self.venues.assign(changed)

    def _maintain_ties(self) -> None:
        """Every `prune_every` steps: forget faded ties; newcomers since the last time make their
        social ties (friends, neighbours, classmates or colleagues: settling in takes a while)."""
        self.ties.prune(self.step_now)
        if self._unsettled:
            newcomers = np.unique(np.concatenate(self._unsettled))
            social_ties(self.ties, self.pop, self.venues, self.params.ties, self.streams.get("newcomer_ties"), self.step_now, newcomers)
            self._unsettled = []

    def _family_ties_of_newcomers(self, newcomers: np.ndarray, hosts: np.ndarray) -> None:
        has_host = hosts >= 0
        newcomers, hosts = newcomers[has_host], hosts[has_host]
        order = np.argsort(hosts)
        hosts, newcomers = hosts[order], newcomers[order]
        family = self.ties.incident(hosts, self.step_now, ("family",))
        ego, alter = family.ego, family.alter
        first = np.searchsorted(hosts, ego, side="left")
        count = np.searchsorted(hosts, ego, side="right") - first
        pair = np.repeat(np.arange(len(ego)), count)
        within = np.arange(len(pair)) - np.repeat(np.cumsum(count) - count, count)
        a = np.concatenate([newcomers, newcomers[first[pair] + within]])
        b = np.concatenate([hosts, alter[pair]])
        # newcomers who join the same household in the same step are family too
        same_a, same_b = family_ties(self.pop, newcomers)
        self.ties.meet(np.concatenate([a, same_a]), np.concatenate([b, same_b]), LAYER["family"], self.step_now)

    def _meet(self) -> None:
        free = self.pop.free()
        offline = self.venues.visit(free)
        online = self.online.visit(free)
        # one merge into the sorted tie arrays per step: inserting costs a pass over all ties
        self.ties.meet(
            np.concatenate([offline.a, online.a]),
            np.concatenate([offline.b, online.b]),
            np.concatenate([self.venues.layer_codes()[offline.venue_type], self.online.layer_codes()[online.space]]),
            self.step_now,
            np.concatenate([offline.venue_type, len(self.venues.types) + online.space]),
            self.tie_rng,
        )
        self.offline_meetings = offline

    def _recruit(self) -> None:
        self.refresh_available()
        order = self.streams.get("recruitment.order").permutation(len(self.rules))
        for i in order:
            self.update_demand()
            self.rules[i].step()

    # ------------------------------------------------------------------ interventions
    def add_intervention(self, spec: dict) -> Intervention:
        """Schedule an intervention on the running model (e.g. a trainer's button).

        `spec` is a scenario `interventions:` entry; without timing it acts from the next step.
        Raises ScenarioError (one line) if the entry is invalid.
        """
        spec = dict(spec)
        if "at" not in spec and "from" not in spec:
            spec["at"] = self.step_now * self.clock.dt  # year of the next step's start
        try:
            params = _INTERVENTION_ADAPTER.validate_python(spec)
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            raise ScenarioError(f"intervention {spec.get('type')!r}: {'.'.join(map(str, first['loc']))}: {first['msg']}") from None
        if getattr(params, "target", None) is not None and params.target not in self.online._by_name:
            raise ScenarioError(f"intervention {params.type!r}: unknown online space {params.target!r} (allowed: {', '.join(self.online._by_name)})")
        intervention = self.intervention_schedule.add(INTERVENTIONS[params.type](self, params), "intervention")
        self.interventions.append(intervention)
        return intervention

    # ------------------------------------------------------------------ shared state
    def refresh_available(self) -> None:
        """Who can be approached: free, in no network, old enough."""
        pop = self.pop
        self.available = pop.free() & (pop.network == NO_NETWORK) & (pop.age >= self.params.recruitment.min_age)

    def update_demand(self) -> None:
        """Each network's recruitment intensity and role weights (indexed by network id)."""
        t, p = self.networks, self.params.networks
        self.demand_intensity = np.zeros(t.n)
        self.demand_weights = np.zeros((t.n, self.networks.role_counts.shape[1]))
        ids = t.active_ids()
        self.demand_intensity[ids], self.demand_weights[ids] = self.business.demand(
            t.business_model[ids], t.role_counts[ids], p.growth_slack, p.growth_rate_multiplier)

    def add_network_agent(self, network_id: int) -> None:
        self.network_agents[network_id] = CriminalNetwork(self, network_id)

    def remove_network_agent(self, network_id: int) -> None:
        self.network_agents.pop(network_id).remove()

    # ------------------------------------------------------------------ outputs
    def _record(self) -> None:
        self.recorder.end_step(timeseries_row(self))
        every = self.params.outputs.snapshot_every
        if self.step_now % every == 0 or self.step_now == self.params.steps:
            self._snapshot()

    def _snapshot(self) -> None:
        self.recorder.snapshots.append(network_snapshot(self, since=self._last_snapshot_step))
        self._last_snapshot_step = self.step_now

    def results(self) -> RunResults:
        """The run's tables (see docs/outputs.md)."""
        if self.recorder.rows and self._last_snapshot_step != self.step_now:
            self._snapshot()  # a run stopped early still ends with a snapshot
        return RunResults(
            timeseries=self.recorder.timeseries(timeseries_columns(self)),
            networks=self.recorder.networks(),
            events=self.recorder.events.frame(),
        )

    def seed_info(self) -> dict:
        return {**self.streams.describe(), "steps_run": self.step_now}
