"""The recruitsim model: one Mesa `Model` that runs a scenario step by step.

Each step, in order (see docs/ODD.md, "Process overview and scheduling"):
 0. intervention effects on people fade; interventions due begin, act or end;
 1. people age; some leave and newcomers take their place; prisoners due are released;
 2. people visit venues and online spaces; meetings make and strengthen ties; every
    `ties.prune_every` steps faded ties are forgotten and newcomers make their social ties;
 3. the step's recruitment market opens (who is available, what each network wants, the
    offline meetings); networks recruit through every enabled rule (in a random order);
 4. motivated people found new networks (on the same market);
 5. networks offend (members who offend together tie up); police detect networks and mules
    and arrest; members desist; headless networks regroup, failing ones dissolve;
 6. the step is recorded (from the end of the burn-in on).

The model first runs `burn_in_years` without recording (when it is built), so that ties and
networks have settled before the outputs' step 1; the model's own step count (`step_now`, which
keys the random numbers) includes the burn-in, the outputs' steps and intervention times do not.

Every run-time process draws its random numbers from its own keyed stream (sim/rng.py), keyed
by step and by person slot or network id, so paired runs share draws person by person.
"""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path
from typing import Any

import mesa
import numpy as np

from sim import sorted_sets
from sim.agents import CriminalNetwork, Person
from sim.crime import co_offending, desistance, enforcement, founding, lifecycle, offending
from sim.crime.business import BusinessModels
from sim.crime.membership import Membership
from sim.crime.network_table import NetworkTable
from pydantic import TypeAdapter, ValidationError

from sim.errors import ScenarioError
from sim.interventions import INTERVENTIONS
from sim.interventions.base import Intervention
from sim.interventions.effects import Effects
from sim.interventions.schedule import InterventionSchedule
from sim.social_ties import build_initial_ties, family_ties, social_ties
from sim.outputs.recorder import Recorder
from sim.outputs.results import RunResults
from sim.outputs.graphs import member_graph
from sim.outputs.snapshots import network_snapshot
from sim.outputs.timeseries import timeseries_columns, timeseries_row
from sim.places.online_spaces import OnlineSpaces
from sim.places.venues import OfflineMeetings, Venues
from sim.population import Population
from sim.recruitment import RULES
from sim.recruitment.market import RecruitmentMarket
from sim.rng import StepRandom, Streams, stream_key
from sim.scenario.bundled import find_scenario
from sim.scenario.loader import describe_error, dotted, load_scenario, override_strings
from sim.scenario.schema import InterventionSpec, Scenario, unknown_target
from sim.ties import TieStore
from sim.timing import Clock
from sim.vocabulary import LAYER


def _as_scenario(scenario: Scenario | str | Path | None) -> Scenario:
    if scenario is None:
        return Scenario()
    if isinstance(scenario, (str, Path)):
        return load_scenario(find_scenario(scenario))
    if not isinstance(scenario, Scenario):
        raise TypeError(f"RecruitModel needs a Scenario or the path of a scenario file, not {type(scenario).__name__}")
    return scenario


NO_MEETINGS = OfflineMeetings(*(np.zeros(0, np.int64),) * 3, np.zeros(0, bool), np.zeros(0, np.int8))


_INTERVENTION_ADAPTER = TypeAdapter(InterventionSpec)


class RecruitModel(mesa.Model):
    """Recruitment into cybercriminal networks through offline and online ties.

    From Python, in Mesa's conventions::

        model = RecruitModel.from_yaml("baseline", population={"size": 2000})
        model.run_model()                # stops at the scenario's end (`running` turns False)
        tables = model.results()         # pandas DataFrames: timeseries, networks, events

    The validated scenario is `model.config` (a `sim.scenario.Scenario`). `model.scenario` is
    Mesa's own attribute (it holds Mesa's seed, and SolaraViz requires Mesa's type there), so
    the scenario lives under another name.

    Args:
        scenario: the validated scenario, or the path of a scenario file or name of a bundled one
            (default: the schema's defaults).
        replication: extra seed-sequence key, so replication i of every scenario shares draws.
    """

    def __init__(self, scenario: Scenario | str | Path | None = None, *, replication: tuple[int, ...] = ()):
        config = _as_scenario(scenario)
        streams = Streams(config.seed, replication)
        super().__init__(rng=streams.integer_seed("mesa"))
        self.config = config
        self.streams = streams
        self.clock = Clock(config.step, Clock(config.step).whole_steps(config.burn_in_years))
        self.year_decay = float(np.exp(-self.clock.dt))  # one-year exponential window
        self.step_now = 0
        self._last_snapshot_step = 0
        self.pop = Population(config.population, self.clock, streams.get("population"), streams.process("population"))
        self.venues = Venues(config.places, self.pop, self.clock, streams.get("venues"), streams.process("venues"))
        self.ties = TieStore(self.pop.size, config.ties, self.clock)
        self._unsettled: list[np.ndarray] = []  # newcomers waiting for their social ties
        build_initial_ties(self.ties, self.pop, self.venues, config.ties, streams.get("initial_ties"))
        # after the ties: a tie to a forum user raises the chance of becoming one
        self.online = OnlineSpaces(config.places, self.pop, self.clock, streams.get("online"), streams.process("online"), self.ties)
        self.business = BusinessModels(config.networks)
        self.networks = NetworkTable()
        self.recorder = Recorder(self.pop)
        self.membership = Membership(self.pop, self.networks, self.recorder, self.clock.dt,
                                     self.ties, streams.process("rewiring"), config.networks.rewire_prob)
        self.joint_offending = co_offending.JointOffending()
        self.rules = [rule(self, getattr(config.recruitment.rules, name)) for name, rule in RULES.items()
                      if getattr(config.recruitment.rules, name).enabled]
        self.effects = Effects(self.pop, self.online, self.clock)  # all that interventions change, by owner
        self.intervention_schedule = InterventionSchedule(self.clock)
        self.interventions = [self.intervention_schedule.add(INTERVENTIONS[spec.type](self, spec), f"interventions[{i}]")
                              for i, spec in enumerate(config.interventions)]
        self._person_agents: list[Person] | None = None  # made on first use (`person_agents`, `agents`)
        self.network_agents: dict[int, CriminalNetwork] = {}
        self.recorder.recording = self.clock.burn_in_steps == 0  # set-up events belong to the burn-in if there is one
        founding.seed_initial_networks(self, self._open_market(NO_MEETINGS), streams.get("founding.initial"))
        self._burn_in()

    def _burn_in(self) -> None:
        """Run the burn-in steps unrecorded; the outputs start with the next step."""
        if self.clock.burn_in_steps == 0:
            return
        for _ in range(self.clock.burn_in_steps):
            self.step()
        self.recorder.start(self.clock.burn_in_steps)
        self._last_snapshot_step = self.step_now

    @property
    def output_step(self) -> int:
        """The step of the outputs: 0 at the end of the burn-in, `config.steps` at the scenario's end."""
        return self.clock.output_step(self.step_now)

    @classmethod
    def from_yaml(cls, path: str | Path, *, replication: tuple[int, ...] = (), **overrides: Any) -> RecruitModel:
        """The model of a scenario file (or bundled scenario, by name), with keys overridden as
        `recruitsim run --set` does.

        `overrides` are scenario keys: `steps=52`, `seed=3`, or a nested mapping that sets only
        the keys it names (`population={"size": 2000}` keeps the file's other population keys).
        Raises ScenarioError (one line) on any problem with the file or the overrides.
        """
        return cls(load_scenario(find_scenario(path), override_strings(overrides)), replication=replication)

    # ------------------------------------------------------------------ the step
    def step(self) -> None:
        self.step_now = step = int(self.time)
        self.effects.fade_to(step)  # each wave on persons by its own half-life; new ones start at full strength
        self.intervention_schedule.step(self.step_now)
        self._turnover()
        enforcement.release(self)
        meetings = self._meet()
        if self.step_now % self.config.ties.prune_every == 0:
            self._maintain_ties()
        market = self._open_market(meetings)
        self._recruit(market)
        enforcement.take_in_informants(self, market.informants)
        founding.found_new_networks(self, market, self._draws("founding", step))
        offending.offend(self, self._draws("offending", step))
        self.joint_offending.step(self, self._draws("co_offending", step))  # co-offenders' ties
        enforcement.detect_networks(self, self._draws("enforcement.networks", step))
        enforcement.detect_mules(self, self._draws("enforcement.mules", step))
        desistance.desist(self, self._draws("desistance", step))
        lifecycle.regroup(self, self._draws("regroup", step))
        lifecycle.dissolve(self, self._draws("dissolve", step))
        self._record()
        if self.output_step >= self.config.steps:
            self.running = False  # Mesa's run_model() and SolaraViz stop here: the scenario's end

    def _draws(self, process: str, step: int) -> StepRandom:
        """The keyed random numbers of a process at this step (sim/rng.py)."""
        return self.streams.process(process).at(step)

    def _turnover(self) -> None:
        """Ageing, exits and entries; a newcomer joins a host's household and arrives with social ties."""
        step = self.step_now
        changed = self.pop.age_one_step(step)
        leavers = self.pop.leavers(step)
        if len(leavers):
            self.membership.leave(step, leavers, "exit")
            self.ties.remove_persons(leavers)
            self.online.forget_persons(leavers)
            hosts = self.pop.renew(leavers, step)
            self.venues.assign(leavers, step)
            self._family_ties_of_newcomers(leavers, hosts)
            self._unsettled.append(leavers)
            if self._person_agents is not None:
                for slot in leavers:
                    self._person_agents[slot].remove()
                    self._person_agents[slot] = Person(self, int(slot))
        self.venues.assign(changed, step)

    def _maintain_ties(self) -> None:
        """Every `prune_every` steps: forget faded ties; newcomers since the last time make their
        social ties (friends, neighbours, classmates or colleagues: settling in takes a while)."""
        self.ties.prune(self.step_now)
        if self._unsettled:
            newcomers = sorted_sets.unique(np.concatenate(self._unsettled))
            # a generator of this step: newcomers' ties depend on who arrived since the last time only
            rng = self.streams.process("newcomer_ties").generator(self.step_now)
            social_ties(self.ties, self.pop, self.venues, self.config.ties, rng, self.step_now, newcomers)
            self._unsettled = []

    def _family_ties_of_newcomers(self, newcomers: np.ndarray, hosts: np.ndarray) -> None:
        has_host = hosts >= 0
        newcomers, hosts = newcomers[has_host], hosts[has_host]
        order = np.argsort(hosts)
        hosts, newcomers = hosts[order], newcomers[order]
        ego, alter = self.ties.links(hosts, ("family",))
        first = np.searchsorted(hosts, ego, side="left")
        count = np.searchsorted(hosts, ego, side="right") - first
        pair = np.repeat(np.arange(len(ego)), count)
        within = np.arange(len(pair)) - np.repeat(np.cumsum(count) - count, count)
        a = np.concatenate([newcomers, newcomers[first[pair] + within]])
        b = np.concatenate([hosts, alter[pair]])
        # newcomers who join the same household in the same step are family too
        same_a, same_b = family_ties(self.pop, newcomers)
        self.ties.connect(np.concatenate([a, same_a]), np.concatenate([b, same_b]), LAYER["family"], self.step_now)

    def _meet(self) -> OfflineMeetings:
        """Visits to venues and online spaces, and the ties the meetings make; returns the offline meetings."""
        step, free = self.step_now, self.pop.free()
        # one merge into the sorted tie arrays per step (inserting costs a pass over all ties), of
        # two parts: the venues' meetings strengthen their ties while the online visits are made,
        # on two threads if there are; their layers differ, so the parts touch different ties (`StepMeetings`)
        meetings = self.ties.meetings_in_parts(step, new_tie_key=self._draws("ties.new", step).key("new_tie"))

        def online_meetings() -> None:
            online = self.online.visit(free, step)
            meetings.strengthen(online.a, online.b, online.layer, len(self.venues.types) + online.space)

        offline = self.venues.visit(free, step, meetings, meanwhile=online_meetings)
        meetings.add()
        return offline

    def _open_market(self, meetings: OfflineMeetings) -> RecruitmentMarket:
        return RecruitmentMarket.open(self.step_now, self.pop, self.config.recruitment.min_age, meetings,
                                      self.networks, self.business, self.config.networks)

    def _recruit(self, market: RecruitmentMarket) -> None:
        """Every enabled rule, in a random order each step; each sees the demand the previous ones left."""
        names = np.array([stream_key(rule.name) for rule in self.rules], dtype=np.int64)
        for i in self._draws("recruitment.order", self.step_now).ranks(names):
            market.read_demand(self.networks, self.business, self.config.networks)
            self.rules[i].step(market)
        market.tie_recruits(self.ties)

    # ------------------------------------------------------------------ interventions
    def add_intervention(self, spec: dict) -> Intervention:
        """Schedule an intervention on the running model (e.g. a trainer's button).

        `spec` is a scenario `interventions:` entry; without timing it acts from the next step.
        Raises ScenarioError (one line) if the entry is invalid.
        """
        spec = dict(spec)
        if "at" not in spec and "from" not in spec:
            spec["at"] = self.output_step * self.clock.dt  # year of the next step's start
        try:
            params = _INTERVENTION_ADAPTER.validate_python(spec)
        except ValidationError as exc:  # worded as for a scenario file: as if it were the scenario's first entry
            first = exc.errors(include_url=False)[0]
            message = describe_error({**first, "loc": ("interventions", 0, *first["loc"])})
            key = dotted(first["loc"][1:])  # without the union's tag (the type)
            raise ScenarioError(f"intervention {spec.get('type', '(no type)')!r}: {key + ': ' if key else ''}{message}") from None
        problem = unknown_target(params, [s.name for s in self.online.spaces])
        if problem:
            raise ScenarioError(f"intervention {params.type!r}: {problem}")
        intervention = self.intervention_schedule.add(INTERVENTIONS[params.type](self, params), "intervention")
        self.interventions.append(intervention)
        return intervention

    def branch(self, config: Scenario) -> RecruitModel:
        """A copy of this model, at the end of its burn-in and without interventions, that runs
        `config` from here on.

        `config` may differ from this model's scenario only in its `interventions:`. The copy
        runs exactly as `RecruitModel(config)` would (interventions hold no state until they
        act, and every draw is keyed by step and slot), without a second burn-in: the dashboard
        burns in its twins once. Raises ValueError if the outputs have started, this model has
        interventions, or `config` differs in anything else.
        """
        if self.output_step != 0:
            raise ValueError(f"a model branches at the end of its burn-in, not at output step {self.output_step}")
        if self.interventions:
            raise ValueError("a model branches only while it has no interventions")
        if config.model_copy(update={"interventions": []}) != self.config:
            raise ValueError("a branch may differ from its model only in its interventions")
        twin = copy.deepcopy(self)
        twin.config = config
        twin.interventions = [twin.intervention_schedule.add(INTERVENTIONS[spec.type](twin, spec), f"interventions[{i}]")
                              for i, spec in enumerate(config.interventions)]
        return twin

    # ------------------------------------------------------------------ agents
    # The simulation reads only the numpy columns: one Mesa agent per person would cost ~4 s and
    # ~240 MiB at set-up for a million persons. They are made when someone first asks for them.
    @property
    def person_agents(self) -> list[Person]:
        """One `Person` agent per population slot (a view of that slot), made on first access."""
        if self._person_agents is None:
            self._person_agents = [Person(self, slot) for slot in range(self.pop.size)]
        return self._person_agents

    def _with_persons(self) -> None:
        if self.__dict__.get("_person_agents", False) is None:  # not while Mesa's __init__ runs
            self.person_agents  # noqa: B018 (makes them)

    @property
    def agents(self):
        """Mesa's set of all agents (persons included: asking makes them)."""
        self._with_persons()
        return super().agents

    @property
    def agents_by_type(self):
        self._with_persons()
        return super().agents_by_type

    @property
    def agent_types(self) -> list[type]:
        self._with_persons()
        return super().agent_types

    # ------------------------------------------------------------------ network agents
    def add_network_agent(self, network_id: int) -> None:
        self.network_agents[network_id] = CriminalNetwork(self, network_id)

    def remove_network_agent(self, network_id: int) -> None:
        self.network_agents.pop(network_id).remove()

    # ------------------------------------------------------------------ outputs
    def _record(self) -> None:
        if not self.recorder.recording:  # the burn-in
            self.recorder.discard_step()
            return
        self.recorder.end_step(timeseries_row(self))
        every, step = self.config.outputs.snapshot_every, self.output_step
        if step % every == 0 or step == self.config.steps:
            self._snapshot()

    def _snapshot(self) -> None:
        self.recorder.snapshots.append(self._network_snapshot())
        if self.config.outputs.network_graphs:
            self.recorder.graphs.append(self._member_graph())
        self._last_snapshot_step = self.step_now

    def _network_snapshot(self):
        """The networks now, with steps counted as the outputs count them (from the burn-in's end)."""
        return network_snapshot(self, since=self._last_snapshot_step, origin_step=self.clock.burn_in_steps)

    def _member_graph(self):
        return dataclasses.replace(member_graph(self), step=self.output_step)

    def results(self) -> RunResults:
        """The run's tables so far (see docs/outputs.md); asking for them changes nothing."""
        pending, graphs = [], list(self.recorder.graphs)
        if self.recorder.rows and self._last_snapshot_step != self.step_now:
            pending = [self._network_snapshot()]  # a run stopped early still ends with a snapshot
            graphs += [self._member_graph()] if self.config.outputs.network_graphs else []
        return RunResults(
            timeseries=self.recorder.timeseries(timeseries_columns(self)),
            networks=self.recorder.networks(pending),
            events=self.recorder.events.frame(),
            graphs=graphs,
        )

    def seed_info(self) -> dict:
        return {**self.streams.describe(), "steps_run": self.output_step, "burn_in_steps": self.clock.burn_in_steps}
