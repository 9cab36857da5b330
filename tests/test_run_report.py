"""What a run says: the end-of-run summary of `recruitsim run`, and composition figures that mark
interventions, come as png, svg or pdf, and give each colour one meaning across the panels."""

from __future__ import annotations

import matplotlib.colors as mcolors
import pytest
from click.testing import CliRunner
from helpers import SMALL, scenario
from matplotlib.lines import Line2D

from sim.cli import cli
from sim.model import RecruitModel
from sim.outputs.plots import (
    FORMATS,
    MARK_COLOUR,
    composition_figure,
    intervention_moments,
    label,
    plot_composition,
)
from sim.outputs.summary import run_summary
from sim.runner import simulate
from sim.vocabulary import ORIGINS, ROLES

TINY = {"population": {"size": 500, "neighbourhood_size": 250}, "steps": 30, "step": "week", "burn_in_years": 0}
ARRESTS = {"type": "arrests", "targeting": "core", "from": 0.2, "every": 0.2, "share": 0.5, "label": "core arrests"}


@pytest.fixture(scope="module")
def done():
    return simulate(scenario(SMALL, **TINY, interventions=[ARRESTS]))


# --------------------------------------------------------------------------- the summary
def test_the_summary_counts_what_the_tables_hold(done):
    ts = done.results.timeseries
    lines = run_summary(ts, done.manifest)
    last = ts.iloc[-1]
    assert lines[0].startswith(f"small (seed {done.manifest['scenario']['seed']}): {len(ts)} steps of one week in ")
    members = int(sum(last[f"members_{r}"] for r in ROLES))
    assert lines[1] == f"members at the end: {members:,} (" + "; ".join(f"{label(r)} {int(last[f'members_{r}']):,}" for r in ROLES) + ")"
    assert f"active networks at the end: {int(last['networks_active']):,} by origin" in lines[2]
    assert all(f"{label(o)} {int(last[f'networks_{o}']):,}" in lines[2] for o in ORIGINS)
    assert lines[3] == f"recruits over the run: {int(ts['recruits_offline'].sum()):,} offline, {int(ts['recruits_online'].sum()):,} online"
    assert lines[4].startswith(f"offences: {int(ts['offences'].sum()):,}; victims: {int(ts['victims'].sum()):,}; losses: ")


def test_run_prints_the_summary_on_stderr_and_only_the_directory_on_stdout(tmp_path):
    out = tmp_path / "run"
    result = CliRunner().invoke(cli, ["run", "baseline", "--out", str(out), "--set", "population.size=1000",
                                      "--set", "population.neighbourhood_size=500", "--set", "steps=3"])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{out}\n"
    summary = result.stderr.splitlines()[-5:]
    assert summary[0].startswith("baseline (seed 7): 3 steps of one week in ")
    assert summary[1].startswith("members at the end: ") and summary[4].startswith("offences: ")
    quiet = CliRunner().invoke(cli, ["run", "baseline", "--out", str(tmp_path / "q"), "--quiet", "--set", "population.size=1000",
                                     "--set", "population.neighbourhood_size=500", "--set", "steps=3"])
    assert quiet.exit_code == 0 and quiet.stderr == ""


# --------------------------------------------------------------------------- intervention marks
def test_moments_are_every_action_of_each_intervention_up_to_the_end():
    marks = [{"label": "a", "start_year": 1.0, "every_years": 0.5, "until_year": 2.0},
             {"label": "b", "start_year": 3.0, "every_years": None, "until_year": None},
             {"label": "late", "start_year": 9.0, "every_years": None, "until_year": None}]
    assert intervention_moments(marks, end_year=4.0) == [(1.0, "a"), (1.5, ""), (2.0, ""), (3.0, "b")]


def test_the_figure_marks_each_intervention_in_every_panel(done):
    marks = done.model.intervention_schedule.marks()
    fig = composition_figure(done.results.timeseries, "t", marks=marks)
    expected = intervention_moments(marks, float(done.results.timeseries["year"].iloc[-1]))
    assert len(expected) >= 2
    for ax in fig.axes:
        lines = [line for line in ax.get_lines() if mcolors.same_color(line.get_color(), MARK_COLOUR)]
        assert sorted(line.get_xdata()[0] for line in lines) == sorted(year for year, _ in expected)
    assert [t.get_text().strip() for t in fig.axes[0].texts] == ["core arrests"]  # named once, in the top panel


# --------------------------------------------------------------------------- formats
@pytest.mark.parametrize("fmt", FORMATS)
def test_the_figure_is_written_in_each_format(done, tmp_path, fmt):
    path = plot_composition(done.results.timeseries, tmp_path / f"composition.{fmt}", "t", marks=done.model.intervention_schedule.marks())
    head = path.read_bytes()[:400]
    assert {"png": b"\x89PNG", "svg": b"<svg", "pdf": b"%PDF"}[fmt] in head


def test_an_unknown_figure_format_is_refused(done, tmp_path):
    with pytest.raises(ValueError, match="allowed: png, svg, pdf"):
        plot_composition(done.results.timeseries, tmp_path / "c.gif", "t")


# --------------------------------------------------------------------------- colours
def meaning(text: str) -> str:
    """What a legend entry is about: the medium for channels and origin types, else the entry."""
    if text.startswith(("all ", "offline", "online")):
        return text.split()[1] if text.startswith("all ") else text.split()[0].rstrip(",")
    return {"forums": "online", "adverts": "online"}.get(text, text)


def legend_colours(fig) -> dict[str, set[str]]:
    """Colour (hex) -> the meanings the legends give it, over all panels."""
    found: dict[str, set[str]] = {}
    for ax in fig.axes:
        legend = ax.get_legend()
        for handle, text in zip(legend.legend_handles, legend.get_texts(), strict=True):
            colour = handle.get_color() if isinstance(handle, Line2D) else handle.get_facecolor()  # lines; stacked areas
            found.setdefault(mcolors.to_hex(colour), set()).add(meaning(text.get_text()))
    return found


def test_each_colour_has_one_meaning_across_the_panels(done):
    fig = composition_figure(done.results.timeseries, "t")
    colours = legend_colours(fig)
    assert len(colours) >= len(ROLES) + len(ORIGINS)
    assert {colour: meanings for colour, meanings in colours.items() if len(meanings) > 1} == {}
    by_meaning = {next(iter(m)): c for c, m in colours.items()}
    assert by_meaning["offline"] != by_meaning["online"]


def test_the_model_runs_with_marks_from_its_schedule():
    model = RecruitModel(scenario(SMALL, **TINY, interventions=[ARRESTS]))
    assert [m["label"] for m in model.intervention_schedule.marks()] == ["core arrests"]


def test_run_writes_the_figure_in_the_asked_format_with_its_interventions_marked(tmp_path):
    from pathlib import Path

    baseline = Path(__file__).resolve().parent.parent / "scenarios" / "baseline.yaml"
    file = tmp_path / "early_takedown.yaml"
    file.write_text(f"extends: {baseline}\ninterventions:\n  - type: forum_takedown\n    target: gated_forum\n"
                    "    label: early takedown\n    at: 0.05\n")
    out = tmp_path / "run"
    result = CliRunner().invoke(cli, ["run", str(file), "--out", str(out), "--figure-format", "svg", "--quiet",
                                      "--set", "population.size=1000", "--set", "population.neighbourhood_size=500", "--set", "steps=8"])
    assert result.exit_code == 0, result.output
    assert not (out / "composition.png").exists()
    svg = (out / "composition.svg").read_text()
    assert "early takedown" in svg, "the takedown's label marks the figure"
