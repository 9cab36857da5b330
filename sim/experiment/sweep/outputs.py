"""The sweep's result files, each written atomically:

    OUT/samples.parquet        one row per kind, scenario, point and replication: inputs and outcomes
    OUT/indices.parquet        sensitivity indices (sim/experiment/sweep/sensitivity.py)
    OUT/figures/indices_<target>.png, OUT/figures/scatter_<target>.png
    OUT/report.html
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sim.experiment.figures import png_bytes
from sim.experiment.store import write_atomic
from sim.experiment.sweep.figures import indices_figure, scatter_figure
from sim.experiment.sweep.plan import SweepSpec
from sim.experiment.sweep.report import _targets, render_sweep_report, target_title
from sim.experiment.sweep.sensitivity import point_means
from sim.outputs.paths import slug

SAMPLES = "samples.parquet"
INDICES = "indices.parquet"
REPORT = "report.html"


def write_sweep_outputs(out_dir: Path, spec: SweepSpec, samples: pd.DataFrame, indices: pd.DataFrame, record: dict) -> list[str]:
    write_atomic(out_dir / SAMPLES, lambda tmp: samples.to_parquet(tmp, engine="pyarrow", index=False))
    write_atomic(out_dir / INDICES, lambda tmp: indices.to_parquet(tmp, engine="pyarrow", index=False))
    written = [SAMPLES, INDICES]
    figures = make_figures(spec, samples, indices)
    for file, (_, png) in figures.items():
        write_atomic(out_dir / "figures" / file, lambda tmp, png=png: tmp.write_bytes(png))
        written.append(f"figures/{file}")
    page = render_sweep_report(spec, indices, list(figures.values()), {**record, "files": written + [REPORT]})
    write_atomic(out_dir / REPORT, lambda tmp: tmp.write_text(page, encoding="utf-8"))
    return written + [REPORT]


def make_figures(spec: SweepSpec, samples: pd.DataFrame, indices: pd.DataFrame) -> dict[str, tuple[str, bytes]]:
    """file name -> (caption, PNG): per target, the indices and the scatter of outcomes against parameters."""
    outcomes = spec.definition.outcomes
    means = point_means(samples, outcomes).merge(spec.values.reset_index(), on="sample", how="left")
    figures = {}
    for kind, scenario in _targets(indices):
        title = target_title(spec, kind, scenario)
        name = slug(f"{kind}_{scenario}")
        part = indices[(indices["kind"] == kind) & (indices["scenario"] == scenario)]
        figures[f"indices_{name}.png"] = (f"Sensitivity indices of {title}, with 95% intervals.",
                                          png_bytes(indices_figure(part, spec.definition.design, title)))
        points = means[(means["kind"] == kind) & (means["scenario"] == scenario)]
        figures[f"scatter_{name}.png"] = (f"Each outcome of {title} against each parameter: one point per design point "
                                          "(mean of its replications).",
                                          png_bytes(scatter_figure(points, spec.parameters, outcomes, title)))
    return figures
