"""Twin runs for the dashboard: the same scenario and seed, once with interventions, once without.

`TwinRun` is the Mesa model the SolaraViz page drives (play, step, reset re-create it from the
sidebar's parameters). It holds two `RecruitModel`s built from the same scenario and seed:

- `treated` runs the scenario's own interventions plus every intervention a trainer adds live;
- `untreated` (the twin, optional) runs the same scenario with its `interventions:` removed.

Every stochastic process draws from its own named stream (sim/rng.py), so the two runs are
identical, step for step, until the first intervention acts; from then on the gap between them
is the intervention's effect, not noise (common random numbers). The view never lives inside
the model: this module only wraps RecruitModel, and sim/dashboard/components.py draws it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

import mesa
import numpy as np
import pandas as pd

from sim.dashboard.command import SCENARIO_ENV  # noqa: F401  (app.py imports it from here)
from sim.dashboard.layout import StableLayout
from sim.errors import ScenarioError
from sim.model import RecruitModel
from sim.outputs.recorder import timeseries_frame
from sim.outputs.timeseries import timeseries_columns
from sim.places.online_spaces import RECRUITING_KINDS
from sim.scenario import load_scenario
from sim.scenario.bundled import BUNDLED_DIR
from sim.scenario.bundled import bundled_scenarios as packaged_scenarios

DEFAULT_SCENARIO = BUNDLED_DIR / "baseline.yaml"

# What a trainer varies, with the scenario keys they override (docs/dashboard.md).
POPULATION_KEY = "population.size"
FORUM_RATE_KEY = "recruitment.rules.forums.search_rate"
OFFLINE_RATE_KEY = "recruitment.rules.offline_ties.attempt_rate"
POPULATION_RANGE = (1_000, 10_000)
DEFAULT_POPULATION = 3_000  # a twin step then takes a few tens of milliseconds
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


@dataclass
class LiveIntervention:
    """An intervention a trainer added while the model ran."""

    label: str
    spec: dict
    year: float  # the moment it acts: the start of the next step [years]


class TwinRun(mesa.Model):
    """Two RecruitModels with the same scenario and seed; interventions act on `treated` only.

    Keyword arguments are the dashboard's sidebar inputs (SolaraViz re-creates the model from
    them on Reset). `scenario_file` overrides the `scenario_name` choice (used by tests).
    No argument may be called `scenario`: Mesa's Reset passes its own Scenario object under that name.
    """

    def __init__(
        self,
        scenario_name: str = "baseline",
        seed: str | int = "",
        population: int = DEFAULT_POPULATION,
        forum_search_rate: float | None = None,
        offline_attempt_rate: float | None = None,
        side_by_side: bool = True,
        scenario_file: str | Path | None = None,
        choices: dict[str, Path] | None = None,
    ):
        choices = choices if choices is not None else bundled_scenarios()
        path = Path(scenario_file) if scenario_file is not None else choices.get(scenario_name, None)
        if path is None:
            raise ScenarioError(f"unknown scenario {scenario_name!r} (allowed: {', '.join(choices)})")
        self.notes: list[str] = []
        overrides = [f"{POPULATION_KEY}={int(population)}"]
        if forum_search_rate is not None:
            overrides.append(f"{FORUM_RATE_KEY}={float(forum_search_rate)}")
        if offline_attempt_rate is not None:
            overrides.append(f"{OFFLINE_RATE_KEY}={float(offline_attempt_rate)}")
        if str(seed).strip():
            parsed = parse_seed(seed)
            if parsed is None:
                self.notes.append(f"seed {str(seed).strip()!r} is not a whole number >= 0: using the scenario's seed")
            else:
                overrides.append(f"seed={parsed}")
        config = load_scenario(path, overrides)
        super().__init__(rng=config.seed)
        self.config = config
        self.scenario_path = path
        self.treated = RecruitModel(config)
        self.untreated = RecruitModel(config.model_copy(update={"interventions": []})) if side_by_side else None
        self.live: list[LiveIntervention] = []
        self.layouts = {"treated": StableLayout(), "untreated": StableLayout()}
        self.last_step_seconds = 0.0
        self.render_seconds: dict[str, float] = {}  # figure name -> seconds to draw it last time
        self.drawn: dict = {}  # figure name -> its last picture (sim/dashboard/components.py)
        self.figures: dict = {}  # figure name -> the figure kept and updated in place (same)
        self.draw_lock = threading.Lock()  # one figure drawn at a time
        self._last_step_thread: int | None = None
        self._last_step_at = -1e9
        self._lock = threading.RLock()  # the play loop steps in a thread; buttons act from another
        self._frames: dict[str, tuple[int, pd.DataFrame]] = {}
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
    def year(self) -> float:
        return self.treated.output_step * self.treated.clock.dt

    @property
    def horizon_years(self) -> float:
        return self.config.steps * self.treated.clock.dt

    def step(self) -> None:
        with self._lock:
            if self.treated.output_step >= self.config.steps:
                self.running = False
                return
            started = time.perf_counter()
            for model in self.models.values():
                model.step()
            self.last_step_seconds = time.perf_counter() - started
            self.running = self.treated.output_step < self.config.steps
            self._last_step_thread, self._last_step_at = threading.get_ident(), time.monotonic()

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
            live = LiveIntervention(intervention.label, dict(spec), intervention.params.start_year)
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

    # ------------------------------------------------------------------ data for the views
    def timeseries(self, which: str = "treated") -> pd.DataFrame:
        """The run's timeseries so far (docs/outputs.md columns), cached per step."""
        model = self.models[which]
        with self._lock:
            rows = list(model.recorder.rows)
        cached = self._frames.get(which)
        if cached is not None and cached[0] == len(rows):
            return cached[1]
        frame = timeseries_frame(rows, timeseries_columns(model))  # from a copy of the rows taken under the lock
        self._frames[which] = (len(rows), frame)
        return frame

    def network_view(self, which: str = "treated") -> NetworkView:
        """Members of the criminal networks with stable positions, and the ties among them."""
        model = self.models[which]
        with self._lock:
            return network_view(model, self.layouts[which])


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
