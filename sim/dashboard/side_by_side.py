"""Twin runs for the dashboard: the same scenario and seed, once with interventions, once without.

`TwinRun` is what the page (app.py) drives: it is made from the trainer's `Settings` and holds
two `RecruitModel`s with the same scenario and seed, burned in once (`burned_in`, `RecruitModel.branch`):

- `treated` runs the scenario's own interventions plus every intervention a trainer adds live;
- `untreated` (the twin, optional) runs the same scenario with its `interventions:` removed.

Every stochastic process draws from its own named stream (sim/rng.py), so the two runs are
identical, step for step, until the first intervention acts; from then on the gap between them
is the intervention's effect, not noise (common random numbers). The view never lives inside
the model: this module only wraps RecruitModel, and sim/dashboard/figures.py draws it.

It also writes the session down (`session_yaml`: a scenario that reproduces the run with
interventions; `series_csv`: both runs' timeseries).
"""

from __future__ import annotations

import copy
import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.dashboard.command import SCENARIO_ENV  # noqa: F401  (app.py imports it from here)
from sim.dashboard.layout import StableLayout
from sim.model import RecruitModel
from sim.outputs.recorder import timeseries_frame
from sim.outputs.timeseries import timeseries_columns, timeseries_row
from sim.places.online_spaces import RECRUITING_KINDS
from sim.scenario import load_scenario
from sim.scenario.schema import InterventionSpec, Scenario
from sim.scenario.bundled import BUNDLED_DIR
from sim.scenario.bundled import bundled_scenarios as packaged_scenarios

DEFAULT_SCENARIO = BUNDLED_DIR / "baseline.yaml"

# What a trainer varies, with the scenario keys they override (docs/dashboard.md).
POPULATION_KEY = "population.size"
FORUM_RATE_KEY = "recruitment.rules.forums.search_rate"
OFFLINE_RATE_KEY = "recruitment.rules.offline_ties.attempt_rate"
POPULATION_RANGE = (1_000, 20_000)
DEFAULT_POPULATION = 10_000  # the scale the scenarios are calibrated at; a step of both twins takes ~40 ms
RUN_NAMES = {"treated": "with_interventions", "untreated": "without_interventions"}  # the CSV's `run` column
NEW_RECRUIT_STEPS = 4  # members who joined within this many steps are highlighted as new


def bundled_scenarios(extra: Path | None = None) -> dict[str, Path]:
    """Scenario choices: name (file stem) -> path; the bundled ones, plus `extra` if it is not one of them."""
    found = dict(packaged_scenarios())
    if extra is not None:
        extra = Path(extra)
        if found.get(extra.stem, None) is None or found[extra.stem].resolve() != extra.resolve():
            found[extra.stem if extra.stem not in found else str(extra)] = extra
    return found


def choice_name(path: Path, choices: dict[str, Path]) -> str:
    """The key of `path` in `choices`."""
    for name, candidate in choices.items():
        if Path(candidate).resolve() == Path(path).resolve():
            return name
    raise KeyError(str(path))


def parse_seed(text) -> int | None:
    """A seed typed by a user: a whole number >= 0, or None (blank or invalid)."""
    try:
        seed = int(str(text).strip())
    except ValueError:
        return None
    return seed if seed >= 0 else None


@dataclass(frozen=True)
class Settings:
    """What a trainer chooses before a run (the settings panel), applied by Apply; Restart keeps them."""

    scenario: Path = DEFAULT_SCENARIO
    seed: int | None = None  # None: the scenario's own
    population: int = DEFAULT_POPULATION
    forum_search_rate: float | None = None  # None: the scenario's own
    offline_attempt_rate: float | None = None
    side_by_side: bool = True

    def overrides(self) -> list[str]:
        out = [f"{POPULATION_KEY}={int(self.population)}"]
        if self.forum_search_rate is not None:
            out.append(f"{FORUM_RATE_KEY}={float(self.forum_search_rate)}")
        if self.offline_attempt_rate is not None:
            out.append(f"{OFFLINE_RATE_KEY}={float(self.offline_attempt_rate)}")
        if self.seed is not None:
            out.append(f"seed={int(self.seed)}")
        return out


@dataclass
class LiveIntervention:
    """An intervention a trainer added while the model ran."""

    label: str
    spec: InterventionSpec  # validated, with its time (`at`): what the session's scenario file lists
    year: float  # the moment it acts: the start of the next step [years]


# Burned-in towns, by scenario (without interventions): the burn-in is most of the cost of a
# Reset, a new browser tab or a story, and it is the same every time. Each user gets a copy.
_BURNED_IN: dict[str, RecruitModel] = {}
_BURNED_IN_LOCK = threading.Lock()
BURNED_IN_KEPT = 4


def burned_in(config: Scenario) -> RecruitModel:
    """A fresh copy of `config`'s town (interventions removed) at the end of its burn-in."""
    plain = config.model_copy(update={"interventions": []})
    key = json.dumps(plain.resolved())  # not sort_keys: the order of named entries is part of a scenario
    with _BURNED_IN_LOCK:  # one burn-in at a time: two tabs opening at once wait for the same one
        model = _BURNED_IN.get(key)
        if model is None:
            model = _BURNED_IN[key] = RecruitModel(plain)
            while len(_BURNED_IN) > BURNED_IN_KEPT:
                _BURNED_IN.pop(next(iter(_BURNED_IN)))
        return copy.deepcopy(model)


class TwinRun:
    """Two RecruitModels with the same scenario and seed; interventions act on `treated` only.

    Both start from one burn-in (`RecruitModel.branch`): `treated` runs exactly as
    `RecruitModel(config)` would, `untreated` as the same scenario without interventions.
    """

    def __init__(self, settings: Settings):
        self.settings = settings
        self.config = config = load_scenario(settings.scenario, settings.overrides())
        self.scenario_path = Path(settings.scenario)
        self.live: list[LiveIntervention] = []
        self.layouts = {"treated": StableLayout(), "untreated": StableLayout()}
        self.last_step_seconds = 0.0
        self.render_seconds: dict[str, float] = {}  # figure name -> seconds to draw it last time
        self.drawn: dict = {}  # figure name -> its last picture (sim/dashboard/figures.py)
        self.figures: dict = {}  # figure name -> the figure kept and updated in place (same)
        self.draw_lock = threading.Lock()  # one figure drawn at a time
        self._last_step_thread: int | None = None
        self._last_step_at = -1e9
        self._lock = threading.RLock()  # the play loop steps in a thread; buttons act from another
        self._frames: dict[str, tuple[int, pd.DataFrame]] = {}
        untreated = burned_in(config)
        self.treated = untreated.branch(config)
        self.untreated = untreated if settings.side_by_side else None
        self._start_rows = {run: start_row(model) for run, model in self.models.items()}
        self.running = True

    # ------------------------------------------------------------------ running
    @property
    def models(self) -> dict[str, RecruitModel]:
        """The runs by role: 'treated' always, 'untreated' when side by side."""
        out = {"treated": self.treated}
        if self.untreated is not None:
            out["untreated"] = self.untreated
        return out

    @property
    def step_now(self) -> int:
        return self.treated.output_step

    @property
    def dt(self) -> float:
        """Years per step."""
        return self.treated.clock.dt

    @property
    def year(self) -> float:
        return self.treated.output_step * self.dt

    @property
    def horizon_years(self) -> float:
        return self.config.steps * self.dt

    def step(self) -> None:
        self.advance(1)

    def advance(self, steps: int) -> int:
        """Step both runs up to `steps` times (fewer at the scenario's end); the steps made."""
        made = 0
        with self._lock:
            started = time.perf_counter()
            while made < steps and self.treated.output_step < self.config.steps:
                for model in self.models.values():
                    model.step()
                made += 1
            if made:
                self.last_step_seconds = (time.perf_counter() - started) / made
                self._last_step_thread, self._last_step_at = threading.get_ident(), time.monotonic()
            self.running = self.treated.output_step < self.config.steps
        return made

    def steps_to_year(self, year: float) -> int:
        """Steps from now to `year` (0 if it has passed; at most to the scenario's end)."""
        target = min(self.config.steps, int(round(year / self.dt)))
        return max(0, target - self.step_now)

    def stepping_elsewhere(self, within_s: float) -> bool:
        """Whether another thread stepped the model within the last `within_s` seconds (it is playing)."""
        return self._last_step_thread not in (None, threading.get_ident()) and time.monotonic() - self._last_step_at < within_s

    # ------------------------------------------------------------------ live interventions
    def intervene(self, spec: dict) -> LiveIntervention:
        """Add an intervention to the treated run; it acts from the next step.

        Raises ScenarioError (one line) if the entry is invalid.
        """
        with self._lock:
            intervention = self.treated.add_intervention(spec)
            live = LiveIntervention(intervention.label, intervention.params, intervention.params.start_year)
            self.live.append(live)
            return live

    def recruiting_spaces(self, open_only: bool = True) -> list[str]:
        """Online spaces where networks look for co-offenders (forums, markets, chat): the ones a
        trainer can take down or infiltrate."""
        return [s.name for s in self.treated.online.spaces if s.kind in RECRUITING_KINDS and (s.is_open or not open_only)]

    def marks(self) -> list[dict]:
        """Intervention moments to mark on the plots, up to now: label and year of every action."""
        now = self.year
        out = []
        for mark in self.treated.intervention_schedule.marks():
            start, until, every = mark["start_year"], mark["until_year"], mark["every_years"]
            if start > now + 1e-9:
                continue
            years = [start]
            if every:
                end = min(now, until if until is not None else now)
                years = list(np.arange(start, end + 1e-9, every))
            out.extend({"label": mark["label"], "year": float(y), "first": i == 0} for i, y in enumerate(years))
        return out

    # ------------------------------------------------------------------ take-home
    def session_scenario(self) -> Scenario:
        """The scenario this session ran: the settings, the scenario's interventions and every
        one pressed, at the year it acted. `recruitsim run` on it reproduces the run with
        interventions (tests/test_dashboard.py)."""
        interventions = [*self.config.interventions, *(live.spec for live in self.live)]
        return self.config.model_copy(update={"name": f"{self.config.name}_session", "interventions": interventions})

    def session_yaml(self) -> str:
        """`session_scenario()` as a scenario file, with a header saying where it comes from."""
        from sim.scenario.export import scenario_yaml

        header = (f"A recruitsim dashboard session on {self.scenario_path.name}, to year {self.year:.2f}; "
                  f"with {len(self.live)} intervention(s) pressed.\n"
                  "Re-run it with: recruitsim run THIS_FILE (the run with interventions, step for step).")
        return scenario_yaml(self.session_scenario(), header)

    def series_csv(self) -> str:
        """Both runs' timeseries so far as CSV: one row per run and step (docs/outputs.md columns)."""
        frames = [self.timeseries(run).assign(run=RUN_NAMES[run]) for run in self.models]
        table = pd.concat(frames, ignore_index=True)
        return table[["run", *[c for c in table.columns if c != "run"]]].to_csv(index=False)

    # ------------------------------------------------------------------ data for the views
    def timeseries(self, which: str = "treated") -> pd.DataFrame:
        """The run's timeseries so far (docs/outputs.md columns), cached per step."""
        model = self.models[which]
        with self._lock:
            rows = [self._start_rows[which], *model.recorder.rows]
        cached = self._frames.get(which)
        if cached is not None and cached[0] == len(rows):
            return cached[1]
        frame = timeseries_frame(rows, timeseries_columns(model))  # from a copy of the rows taken under the lock
        self._frames[which] = (len(rows), frame)
        return frame

    def now(self, which: str = "treated") -> dict:
        """The run's latest timeseries row (at step 0: the state at the end of the burn-in)."""
        model = self.models[which]
        with self._lock:
            return model.recorder.rows[-1] if model.recorder.rows else self._start_rows[which]

    def network_view(self, which: str = "treated") -> NetworkView:
        """Members of the criminal networks with stable positions, and the ties among them."""
        model = self.models[which]
        with self._lock:
            return network_view(model, self.layouts[which])


def start_row(model: RecruitModel) -> dict:
    """The timeseries row of step 0: the state at the end of the burn-in, with nothing counted
    yet (recruits, losses, joins: zero), so that plots and counts start from the burned-in town."""
    state = timeseries_row(model)
    state.update(forum_user_joins=0, forum_user_quits=0)
    return {column: state.get(column, 0) for column in timeseries_columns(model)}


@dataclass
class NetworkView:
    """What the network view draws: members (positions, roles, networks, newness) and member ties."""

    slots: np.ndarray
    network: np.ndarray
    role: np.ndarray
    new: np.ndarray  # joined within NEW_RECRUIT_STEPS steps
    xy: np.ndarray  # n x 2
    tie_a: np.ndarray  # indexes into the member arrays, a < b
    tie_b: np.ndarray
    tie_online: np.ndarray  # bool: the tie is in an online layer (forum, chat)
    cells: dict[int, tuple[float, float, str]]  # network id -> cell centre and label
    columns: int
    rows: int


def network_view(model: RecruitModel, layout: StableLayout) -> NetworkView:
    """The network view's data for `model`, placing newcomers in `layout` (nothing else moves)."""
    from sim.dashboard.layout import cell_centre
    from sim.vocabulary import LAYER, ONLINE_LAYERS

    pop = model.pop
    slots = pop.members()
    network = pop.network[slots].astype(np.int64)
    xy = layout.update(pop.person_id[slots], network, pop.joined_step[slots])
    ties = model.ties.incident(slots, model.step_now)
    index = np.full(pop.size, -1, dtype=np.int64)
    index[slots] = np.arange(len(slots))
    a, b = index[ties.ego], index[ties.alter]
    keep = (b >= 0) & (a < b) & (network[a] == network[np.maximum(b, 0)])
    online_codes = [LAYER[name] for name in ONLINE_LAYERS]
    cells = {}
    for net, cell in layout.cell.items():
        agent = model.network_agents.get(net)
        label = f"#{net} {agent.business_model.split('_')[0]}" if agent is not None else f"#{net}"  # short: cells are narrow
        cells[net] = (*cell_centre(cell, layout.columns), label)
    return NetworkView(
        slots=slots, network=network, role=pop.role[slots].astype(np.int64),
        new=(model.step_now - pop.joined_step[slots]) < NEW_RECRUIT_STEPS,
        xy=xy, tie_a=a[keep], tie_b=b[keep], tie_online=np.isin(ties.layer[keep], online_codes),
        cells=cells, columns=layout.columns, rows=layout.rows(),
    )
