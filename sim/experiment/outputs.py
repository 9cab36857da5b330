"""The experiment's result files: summary.csv, aggregates.parquet, figures/*.png, report.html."""

from __future__ import annotations

from pathlib import Path

from sim.experiment.aggregate import Aggregates
from sim.experiment.figures import (
    difference_figure,
    members_figure,
    png_bytes,
    recruitment_figure,
    scenario_styles,
)
from sim.experiment.report import render_report
from sim.experiment.spec import ExperimentSpec
from sim.experiment.store import write_atomic

SUMMARY = "summary.csv"
PER_RUN = "endpoints_per_run.csv"
AGGREGATES = "aggregates.parquet"
REPORT = "report.html"


def write_outputs(out_dir: Path, spec: ExperimentSpec, aggregates: Aggregates, marks: dict[str, list[dict]], record: dict) -> list[str]:
    """Write every result file (each atomically); returns their paths relative to `out_dir`."""
    write_atomic(out_dir / SUMMARY, lambda tmp: aggregates.summary.to_csv(tmp, index=False, na_rep="NaN"))
    write_atomic(out_dir / PER_RUN, lambda tmp: aggregates.per_run.to_csv(tmp, index=False, na_rep="NaN"))
    write_atomic(out_dir / AGGREGATES, lambda tmp: aggregates.timeseries.to_parquet(tmp, engine="pyarrow", index=False))
    figures = make_figures(spec, aggregates, marks)
    written = [SUMMARY, PER_RUN, AGGREGATES]
    for file, (_, png) in figures.items():
        write_atomic(out_dir / "figures" / file, lambda tmp, png=png: tmp.write_bytes(png))
        written.append(f"figures/{file}")
    page = render_report(spec, aggregates.summary, list(figures.values()), {**record, "files": written + [REPORT]})
    write_atomic(out_dir / REPORT, lambda tmp: tmp.write_text(page, encoding="utf-8"))
    return written + [REPORT]


def make_figures(spec: ExperimentSpec, aggregates: Aggregates, marks: dict[str, list[dict]]) -> dict[str, tuple[str, bytes]]:
    """file name -> (caption, PNG)."""
    styles = scenario_styles(spec.names)
    series = aggregates.timeseries
    levels, differences = series[series["kind"] == "level"], series[series["kind"] == "difference"]
    years = spec.steps / spec.steps_per_year
    figures = {"members.png": ("Members of criminal networks over time, in total and by role (lines: mean of the replications; "
                               "bands: 95% intervals; dashed lines: interventions start).",
                               png_bytes(members_figure(levels, marks, styles)))}
    if len(differences):
        figures["difference.png"] = ("Difference from the baseline, replication by replication (scenario − baseline): "
                                     "below 0 means fewer than without the intervention. Bands: 95% intervals.",
                                     png_bytes(difference_figure(differences, marks, styles)))
    figures["recruitment.png"] = ("New recruits over the whole run by recruitment channel and by medium of the approach "
                                  "(founders, who start a network themselves, are not counted). Error bars: 95% intervals.",
                                  png_bytes(recruitment_figure(aggregates.summary, styles, round(years, 2))))
    return figures
