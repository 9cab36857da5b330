"""The sweep's report.html: one self-contained page in the style of compare's (same styles, figures
embedded as base64 PNG, nothing fetched), from the question to the indices and their reading."""

from __future__ import annotations

import math
from datetime import datetime
from string import Template

import pandas as pd

from sim.experiment.report import STYLE, _e, _figure, fmt
from sim.experiment.sweep.figures import outcome_label
from sim.experiment.sweep.plan import SweepSpec

PAGE = Template("""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>$title</title>
$style
</head>
<body>
<h1>$title</h1>
<p class="lead">$lead</p>

<h2>1. The question</h2>
<p>$question</p>
$scenario_table
<h3>Uncertain parameters</h3>
$parameter_table

<h2>2. The answer: sensitivity indices</h2>
$too_few
<p>$index_intro</p>
$index_tables

<h2>3. Figures</h2>
$figures

<h2>4. How to read this</h2>
<ul>$reading</ul>

<h2>5. Provenance</h2>
$provenance
</body>
</html>
""")

DESIGN_WORDS = {
    "sobol": "a Sobol design (Saltelli's scheme, SALib): first and total order indices",
    "morris": "a Morris design (one-at-a-time trajectories, SALib): elementary effects",
    "lhs": "a Latin hypercube (scipy.stats.qmc): rank correlations",
    "grid": "a full grid: rank correlations",
}


def render_sweep_report(spec: SweepSpec, indices: pd.DataFrame, figures: list[tuple[str, bytes]], record: dict) -> str:
    d = spec.definition
    runs = spec.runs
    return PAGE.substitute(
        style=STYLE,
        title=_e(f"Sensitivity analysis: {spec.name}"),
        lead=_e(f"{spec.samples} points of {DESIGN_WORDS[d.design]}; {runs.reps} replication(s) of each point and scenario, "
                f"{spec.total_runs} runs; {runs.steps} steps of one {runs.step}, seed {runs.seed}. "
                f"Generated {datetime.now():%Y-%m-%d %H:%M}."),
        question=_question(spec),
        scenario_table=_scenario_table(spec),
        parameter_table=_parameter_table(spec),
        index_intro=_index_intro(spec),
        too_few=_too_few(spec),
        index_tables="\n".join(_index_table(spec, indices, kind, scenario)
                               for (kind, scenario) in _targets(indices)),
        figures="\n".join(_figure(caption, png) for caption, png in figures),
        reading="".join(f"<li>{item}</li>" for item in _reading(d.design)),
        provenance=_provenance(spec, record),
    )


def target_title(spec: SweepSpec, kind: str, scenario: str) -> str:
    if kind == "difference":
        return f"change made by {scenario} (vs {spec.base_names[0]}, paired)"
    return f"{scenario} (level)"


def _targets(indices: pd.DataFrame) -> list[tuple[str, str]]:
    """Differences first: the effect of an intervention is what the experiment is about."""
    pairs = list(dict.fromkeys(zip(indices["kind"], indices["scenario"], strict=True)))
    return sorted(pairs, key=lambda pair: pair[0] != "difference")


def _question(spec: SweepSpec) -> str:
    outcomes = ", ".join(f"<b>{_e(outcome_label(o))}</b>" for o in spec.definition.outcomes)
    text = (f"Which of the {len(spec.parameters)} uncertain parameters drive {outcomes}"
            f" in {', '.join(f'<b>{_e(n)}</b>' for n in spec.base_names)}")
    if len(spec.bases) > 1:
        text += f", and the changes the other scenarios make compared with <b>{_e(spec.base_names[0])}</b>"
    return text + "?" + (f" {_e(spec.definition.description)}" if spec.definition.description else "")


def _scenario_table(spec: SweepSpec) -> str:
    rows = ["<tr><th>scenario</th><th>description</th><th>source</th><th>persons</th></tr>"]
    for i, base in enumerate(spec.bases):
        role = " (reference of the changes)" if i == 0 and len(spec.bases) > 1 else ""
        rows.append(f"<tr><td><b>{_e(base.name)}</b>{role}</td><td>{_e(base.description) or '–'}</td>"
                    f"<td><code>{_e(base.source)}</code></td><td class=\"num\">{base.population:,}</td></tr>")
    return "<table>\n" + "\n".join(rows) + "\n</table>"


def _parameter_table(spec: SweepSpec) -> str:
    rows = ["<tr><th>parameter</th><th>key path</th><th>range or distribution</th><th>changes</th><th>sampled</th></tr>"]
    for p in spec.definition.parameters:
        column = spec.values[p.label]
        numeric = pd.to_numeric(column, errors="coerce")
        sampled = (f"{numeric.min():.3g} to {numeric.max():.3g}" if numeric.notna().all()
                   else ", ".join(map(str, dict.fromkeys(column))))
        rows.append(f"<tr><td><b>{_e(p.label)}</b></td><td><code>{_e(p.path)}</code></td><td>{_e(_distribution(p))}</td>"
                    f"<td>{_e(', '.join(spec.applies[p.label]))}</td><td>{_e(sampled)}</td></tr>")
    return "<table>\n" + "\n".join(rows) + "\n</table>"


def _distribution(p) -> str:
    if p.range is not None:
        return f"uniform {p.range[0]:g} to {p.range[1]:g}"
    if p.values is not None:
        return "one of " + ", ".join(map(str, p.values))
    d = p.distribution.model_dump()
    return d.pop("type") + " " + ", ".join(f"{k} {v:g}" for k, v in d.items() if v is not None)


# Below these sizes the indices are estimated too poorly to read (their bootstrap intervals too): a check that the experiment runs.
FEWEST = {"sobol": 32, "morris": 10, "lhs": 20, "grid": 2}


def _too_few(spec: SweepSpec) -> str:
    d = spec.definition
    if d.samples >= FEWEST[d.design]:
        return ""
    what = {"sobol": "base samples N", "morris": "trajectories", "lhs": "points", "grid": "levels"}[d.design]
    return (f'<div class="warning"><b>Too few samples to read these indices:</b> {d.samples} {what} (at least '
            f'{FEWEST[d.design]} are needed for rough indices; their intervals are unreliable too). This run shows that the '
            f'experiment runs, not what drives the outcomes.</div>')


def _index_intro(spec: SweepSpec) -> str:
    design = spec.definition.design
    if design == "sobol":
        return ("Each cell: first order index S1 (the share of the outcome's variance the parameter explains alone) and "
                "total order index ST (alone and in interactions), with 95% bootstrap intervals. Rows are sorted by ST; "
                "parameters whose ST interval reaches 0 may be fixed at any value in their range without changing the outcome much.")
    if design == "morris":
        return ("Each cell: mu* (the mean absolute change of the outcome when the parameter moves across its whole range, in the "
                "outcome's units) with its 95% bootstrap interval, and sigma (the spread of those changes: interactions or "
                "non-linearity). Rows are sorted by mu*.")
    return ("Each cell: Spearman's rank correlation of the outcome with the parameter, with a 95% interval. It measures monotone "
            "effects only and does not split the variance; use design: sobol for that.")


def _index_table(spec: SweepSpec, indices: pd.DataFrame, kind: str, scenario: str) -> str:
    rows_of = indices[(indices["kind"] == kind) & (indices["scenario"] == scenario)]
    outcomes = list(dict.fromkeys(rows_of["outcome"]))
    main = {"sobol": "ST", "morris": "mu_star"}.get(spec.definition.design, "spearman")
    order = (rows_of[rows_of["index"] == main].groupby("parameter")["value"].max().abs().sort_values(ascending=False).index.tolist()
             or spec.parameters)
    order += [p for p in spec.parameters if p not in order]
    head = "<tr><th>parameter</th>" + "".join(f"<th>{_e(outcome_label(o))}</th>" for o in outcomes) + "</tr>"
    body = []
    for parameter in order:
        cells = "".join(f'<td class="num">{_cell(rows_of, parameter, outcome, spec.definition.design)}</td>' for outcome in outcomes)
        body.append(f"<tr><td>{_e(parameter)}</td>{cells}</tr>")
    return (f"<h3>{_e(target_title(spec, kind, scenario))}</h3>\n"
            '<div class="wide"><table>\n' + "\n".join([head, *body]) + "\n</table></div>")


def _cell(rows: pd.DataFrame, parameter: str, outcome: str, design: str) -> str:
    part = rows[(rows["parameter"] == parameter) & (rows["outcome"] == outcome)].set_index("index")
    if design == "sobol":
        return "<br>".join(f"{name} {_value(part, name)}" for name in ("S1", "ST"))
    if design == "morris":
        return f"mu* {_value(part, 'mu_star', number=fmt)}<br>sigma {_value(part, 'sigma', number=fmt)}"
    return f"rho {_value(part, 'spearman')}"


def _value(part: pd.DataFrame, index: str, number=None) -> str:
    number = number or (lambda v: "–" if not math.isfinite(v) else f"{v:.2f}".replace("-", "\u2212"))
    if index not in part.index:
        return "–"
    row = part.loc[index]
    text = number(float(row["value"]))
    if math.isfinite(row["ci_low"]) and math.isfinite(row["ci_high"]):
        text += f' <span class="ci">[{number(float(row["ci_low"]))}, {number(float(row["ci_high"]))}]</span>'
    return text


def _reading(design: str) -> list[str]:
    items = [
        "Indices are computed on each point's mean over its replications. The replications' own noise (chance within the model) "
        "is part of the variance the indices share out: it shows up as small indices for every parameter, including ones that "
        "cannot act (an intervention's parameter in the scenario without it). More replications shrink it.",
        "Every point runs with the same random numbers (replication i everywhere): differences between points come from the "
        "parameters, not from new draws; a change from the reference scenario is paired replication by replication.",
    ]
    if design == "sobol":
        items += [
            "S1 near ST: the parameter acts on its own. ST well above S1: it acts through interactions with others. The sum of the "
            "S1 is at most 1; what is missing is interaction (and noise).",
            "Intervals that are wide, or S1 below 0 or above ST, mean the sample is too small for these indices: double "
            "<code>samples</code> (it must stay a power of 2) until the indices that matter stop moving. Small indices (below "
            "about 0.05) are hard to tell from 0 with a few hundred points.",
        ]
    elif design == "morris":
        items += ["Morris ranks parameters cheaply (screening); it does not split the variance. Follow it with a Sobol design on the "
                  "few parameters with a large mu*. Points above the dashed line (sigma > mu*) act non-linearly or in interactions."]
    else:
        items += ["A rank correlation near 0 does not prove a parameter unimportant: a U-shaped effect has rho near 0."]
    items.append("The indices describe this model under these ranges; a parameter that drives the outcome here is one whose "
                 "value needs evidence before the model's answer can be trusted.")
    return items


def _provenance(spec: SweepSpec, record: dict) -> str:
    runs = record.get("runs") or {}
    wall, simulation = record.get("wall_time_s"), record.get("simulation_time_s")
    git = record.get("git") or {}
    commit = git.get("commit") or "not a git checkout"
    if git.get("commit") and git.get("dirty"):
        commit += " (with uncommitted changes)"
    items = [
        ("command", f"<code>{_e(record.get('command') or '(Python API)')}</code>"),
        ("experiment file", f"<code>{_e(spec.source)}</code>"),
        ("overrides (all scenarios)", _e(" ".join(f"--set {o}" for o in spec.runs.overrides)) or "none"),
        ("design", _e(f"{spec.definition.design}, samples {spec.definition.samples} → {spec.samples} points")),
        ("seed", _e(spec.runs.seed)),
        ("runs", f"{runs.get('total', '?')} ({runs.get('run', '?')} run now, {runs.get('reused', '?')} reused from earlier invocations)"),
        ("wall time", "–" if wall is None else f"{wall:,.1f} s" + ("" if not simulation else f" (simulation, summed over workers: {simulation:,.1f} s)")),
        ("ran on", _e(record.get("backend", ""))),
        ("git commit", _e(commit)),
        ("fingerprint", f"<code>{_e(spec.runs.fingerprint[:16])}</code> (every run's scenario and the code; experiment.json has them all)"),
    ]
    return '<dl class="prov">\n' + "\n".join(f"<dt>{_e(k)}</dt><dd>{v}</dd>" for k, v in items) + "\n</dl>"
