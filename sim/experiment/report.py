"""report.html: one self-contained page from the question to the answer.

Plain `string.Template` and `html.escape` (no Jinja: three small templates do not need a
template engine, and nothing here takes user-written templates). Figures are embedded as base64
PNG and the styles inline, so the file opens offline and can be mailed as is.
"""

from __future__ import annotations

import base64
import html
import math
from datetime import datetime
from string import Template

import pandas as pd

from sim.experiment.spec import ExperimentSpec
from sim.outputs.manifest import describe_code

# The columns of the headline table: what a trainer asks first.
HEADLINE = ("involved.last_year_mean", "recruits_all.total", "networks_active.last_year_mean", "offences.total", "losses.total")
# Where an intervention starts within the run, its effect on flows is read since then, not diluted by the years before.
SINCE_START_HEADLINE = ("involved.last_year_mean", "recruits_all.since_start", "networks_active.last_year_mean", "offences.since_start",
                        "losses.since_start")

# Shared with the sweep report (sim/experiment/sweep/report.py): one look for every experiment page.
STYLE = """<style>
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; color: #222; max-width: 1280px; margin: 2em auto; padding: 0 1.2em; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { margin-top: 1.8em; border-bottom: 2px solid #ddd; padding-bottom: 0.2em; }
.lead { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.92em; }
th, td { border: 1px solid #d0d0d0; padding: 0.3em 0.55em; vertical-align: top; }
th { background: #f2f2f2; text-align: left; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.label { min-width: 15em; }
tr.group th { background: #e6e6e6; }
.down { background: #d6e8f4; font-weight: 600; }
.up { background: #f9dcc8; font-weight: 600; }
.change { display: block; margin-top: 0.15em; padding: 0 0.2em; }
.ci { color: #666; font-weight: normal; font-size: 0.9em; }
.abs { display: block; color: #444; font-weight: normal; font-size: 0.9em; }
.primary { font-size: 0.8em; border: 1px solid #888; border-radius: 3px; padding: 0 0.3em; margin-left: 0.4em; }
.key { display: inline-block; padding: 0 0.5em; margin-right: 0.3em; }
.wide { overflow-x: auto; }
.warning { background: #fff3cd; border: 1px solid #e0c36c; padding: 0.5em 0.9em; margin: 0.8em 0; }
figure { margin: 1.2em 0; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { color: #444; font-size: 0.92em; margin-top: 0.3em; }
dl.prov { display: grid; grid-template-columns: max-content 1fr; gap: 0.2em 1em; font-size: 0.92em; }
dl.prov dt { font-weight: 600; } dl.prov dd { margin: 0; }
code { background: #f5f5f5; padding: 0 0.25em; }
</style>"""

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
$idle

<h2>2. The answer at a glance</h2>
$legend
$headline

<h2>3. Summary table</h2>
<p>Each cell: the mean over $reps replications with its 95% interval; for an intervention, below it, the change
relative to the baseline (paired replication by replication) in % and, below that, as an absolute difference, each
with its 95% interval. Members and networks: mean over the last year of the run; recruits, offences, victims, losses
and arrests: totals over the whole run, $since_start and the last year. End points marked
<span class="primary">primary</span> are judged one by one; the others together (see “How to read this”).
Every number, with its p-value, is also in <code>summary.csv</code>.</p>
$legend
$summary_table

<h2>4. Figures</h2>
$figures

<h2>5. How to read this</h2>
<ul>
<li>Replication <i>i</i> of every scenario uses the same random numbers as replication <i>i</i> of the baseline
(common random numbers): the same person meets the same draw for the same decision at the same step in both runs.
Until an intervention acts the two runs are identical; afterwards they drift apart, because once different persons
are in different places, later draws fall on different situations. Pairing therefore removes much of the noise
shared by the two runs, most for outcomes soon after the intervention and less for outcomes years later; it does
not remove chance. Changes are computed per replication (scenario minus baseline), then summarised.</li>
<li>Intervals are 95% bootstrap intervals (BCa, 9,999 resamples of whole replications, the scenario's together
with the baseline's). They never leave what is possible: no count below 0, no change below −100%. With fewer than
about 10 replications they are too narrow; with one they cannot be computed (shown as “–”); “∞” means the data
bound a change from below only (the baseline was 0 in most replications).</li>
<li>% change = mean of the scenario / mean of the baseline − 1; its interval is that of the ratio of the two means.
When the baseline mean is 0 only the absolute difference is shown.</li>
<li>$multiplicity</li>
<li>A highlighted change is unlikely to be chance <em>in this model</em>; it says nothing about whether the model
is right, and an interval that includes 0 is not evidence of no effect.</li>
</ul>

<h2>6. Provenance</h2>
$provenance
</body>
</html>
""")


def render_report(spec: ExperimentSpec, summary: pd.DataFrame, figures: list[tuple[str, bytes]], record: dict) -> str:
    """The page: `figures` are (caption, PNG bytes); `record` is experiment.json's content."""
    names = spec.names
    return PAGE.substitute(
        style=STYLE,
        title=_e(_title(names)),
        lead=_e(f"{spec.reps} replications of each scenario, {spec.steps} steps of one {spec.step} "
                f"({_years(spec):g} years), seed {spec.seed}. Generated {datetime.now():%Y-%m-%d %H:%M}."),
        question=_question(spec),
        scenario_table=_scenario_table(spec, record),
        idle=_idle(spec),
        legend=LEGEND,
        headline=_headline(spec, summary),
        reps=spec.reps,
        since_start=_since_start(spec),
        multiplicity=_multiplicity(spec, summary),
        summary_table=_summary_table(spec, summary),
        figures="\n".join(_figure(caption, png) for caption, png in figures),
        provenance=_provenance(spec, record),
    )


LEGEND = ('<p><span class="key down">blue</span>lower than the baseline, <span class="key up">orange</span>higher than the baseline: '
          'only where the change is found (primary end points: the paired test at 5%; the others: at a false discovery rate of 5%) '
          'and its 95% interval excludes 0. Whether lower is better depends on the row.</p>')


def _since_start(spec: ExperimentSpec) -> str:
    step = spec.first_intervention_step
    if step is None:
        return "(no intervention starts within the run, so there is no total since one starts)"
    return f"since the first intervention starts (from step {step}, year {(step - 1) / spec.steps_per_year:g})"


def _multiplicity(spec: ExperimentSpec, summary: pd.DataFrame) -> str:
    """What the highlighting controls: the primary end points one by one, the rest together."""
    labels = summary.loc[(summary["scenario"] == spec.baseline.name) & summary["primary"], "label"]
    others = summary[(summary["scenario"] != spec.baseline.name) & ~summary["primary"]]
    return (f"Many end points are compared at once, and at 5% each one in twenty would look changed by chance alone. "
            f"The primary end points ({_e('; '.join(labels)) or 'none'}) are each judged on their own: a paired test "
            f"(random sign flips of the differences) at 5%. The other {len(others)} comparisons are judged together, "
            f"with the false discovery rate controlled at 5% (Benjamini–Hochberg): among the changes highlighted there, "
            f"at most about one in twenty is expected to be chance. Their intervals are not adjusted. "
            f"Choose the primary end points before looking at the results (<code>compare --primary</code>).")


def _title(names: list[str]) -> str:
    others = names[1:]
    if len(others) > 3:
        return f"Comparison of {len(others)} interventions with {names[0]}"
    return f"Comparison of interventions: {', '.join(others) or 'baseline only'} vs {names[0]}"


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _years(spec: ExperimentSpec) -> float:
    return round(spec.steps / spec.steps_per_year, 2)


# --------------------------------------------------------------------------- the question
def _question(spec: ExperimentSpec) -> str:
    others = spec.names[1:]
    if not others:
        return f"The baseline <b>{_e(spec.baseline.name)}</b> alone (no intervention scenarios were given)."
    listed = ", ".join(f"<b>{_e(n)}</b>" for n in others)
    return (f"How do {listed} change who is recruited into cybercriminal networks, how, and with what harm, "
            f"compared with the baseline <b>{_e(spec.baseline.name)}</b>?")


def _scenario_table(spec: ExperimentSpec, record: dict) -> str:
    marks = {s["name"]: s.get("interventions") or [] for s in record.get("scenarios", [])}
    rows = ["<tr><th>scenario</th><th>description</th><th>interventions (timing in years since the start)</th><th>persons</th></tr>"]
    for i, entry in enumerate(spec.scenarios):
        role = " (baseline)" if i == 0 else ""
        timing = "<br>".join(_e(describe_mark(m)) for m in marks.get(entry.name, [])) or "none"
        rows.append(f"<tr><td><b>{_e(entry.name)}</b>{role}</td><td>{_e(entry.description) or '–'}</td>"
                    f"<td>{timing}</td><td class=\"num\">{entry.population:,}</td></tr>")
    return "<table>\n" + "\n".join(rows) + "\n</table>"


def _idle(spec: ExperimentSpec) -> str:
    notes = spec.idle_interventions()
    if not notes:
        return ""
    items = "".join(f"<li>{_e(note)}</li>" for note in notes)
    return f'<div class="warning"><b>Warning:</b> these interventions never act in this comparison:<ul>{items}</ul></div>'


def describe_mark(mark: dict) -> str:
    """'forum takedown (forum_takedown): at year 1, in force from then on' and the like."""
    label = mark["label"] if mark["label"] == mark["type"] else f"{mark['label']} ({mark['type']})"
    start, until, every = mark["start_year"], mark.get("until_year"), mark.get("every_years")
    when = f"years {start:g} to {until:g}" if until is not None else f"from year {start:g} on"
    repeat = f", repeated every {every:g} year{'' if every == 1 else 's'}" if every else ""
    return f"{label}: {when}{repeat}"


# --------------------------------------------------------------------------- numbers
def fmt(value: float) -> str:
    """Three significant digits or so, large numbers shortened (1.47M, 194k), a true minus sign."""
    if value is not None and math.isinf(value):
        return "\u221e" if value > 0 else "\u2212\u221e"
    if value is None or not math.isfinite(value):
        return "–"
    size = abs(value)
    if size >= 1e6:
        text = f"{value / 1e6:.2f}M"
    elif size >= 1e4:
        text = f"{value / 1e3:.0f}k"
    else:
        text = f"{value:,.{0 if size >= 100 else 1 if size >= 10 else 2}f}"
    return text.replace("-", "\u2212")


def fmt_pct(value: float) -> str:
    """Percentages: whole numbers from 10% on, one decimal below."""
    if value is not None and math.isinf(value):
        return fmt(value)
    if value is None or not math.isfinite(value):
        return "–"
    return f"{value:,.{0 if abs(value) >= 10 else 1}f}".replace("-", "\u2212")


def _interval(low: float, high: float, unit: str = "") -> str:
    if math.isnan(low) or math.isnan(high):
        return ""
    number = fmt_pct if unit == "%" else fmt
    return f' <span class="ci">[{number(low)}{unit}, {number(high)}{unit}]</span>'


def change(row) -> tuple[str, str]:
    """The paired change as (text, css class): % when the baseline mean is not 0, else the absolute
    difference; the class says whether the change is found (`significant`), and in which direction."""
    pct = math.isfinite(row["pct_change"])
    prefix = "pct_" if pct else "diff_"
    mean, low, high = (row["pct_change"] if pct else row["diff_mean"]), row[f"{prefix}ci_low"], row[f"{prefix}ci_high"]
    unit = "%" if pct else ""
    css = ("up" if mean > 0 else "down") if _found(row, low, high) else ""
    shown = f"{_signed(mean, fmt_pct if pct else fmt)}{unit}" + ("" if pct else " (abs.)")
    return shown + _interval(low, high, unit), css


def _found(row, low: float, high: float) -> bool:
    """The summary's verdict; rows made without one (by hand) fall back to the interval alone."""
    if "significant" in row.index:
        return bool(row["significant"])
    return math.isfinite(low) and math.isfinite(high) and (low > 0 or high < 0)


def _signed(value: float, number) -> str:
    return f"{'+' if value > 0 else ''}{number(value)}"


def absolute(row) -> str:
    """The paired difference beside a % change (the % alone hides how many persons it is)."""
    if not math.isfinite(row["pct_change"]):
        return ""  # the change is shown as the difference already
    return f'<span class="abs">{_signed(row["diff_mean"], fmt)} abs.{_interval(row["diff_ci_low"], row["diff_ci_high"])}</span>'


def change_cell(row) -> str:
    text, css = change(row)
    return f'<td class="num {css}">{text}{absolute(row)}</td>'


def level_cell(row) -> str:
    return f'<td class="num">{_level(row)}</td>'


def level_and_change_cell(row) -> str:
    text, css = change(row)
    return f'<td class="num">{_level(row)}<span class="change {css}">{text}</span>{absolute(row)}</td>'


def _level(row) -> str:
    return f'{fmt(row["mean"])}{_interval(row["ci_low"], row["ci_high"])}'


# --------------------------------------------------------------------------- tables
def _headline(spec: ExperimentSpec, summary: pd.DataFrame) -> str:
    others = spec.names[1:]
    if not others:
        return "<p>No intervention scenario to compare.</p>"
    index = summary.set_index(["scenario", "endpoint"])
    wanted = SINCE_START_HEADLINE if spec.first_intervention_step is not None else HEADLINE
    keys = [k for k in wanted if (spec.baseline.name, k) in index.index]
    labels = index.loc[spec.baseline.name].loc[keys, "label"]
    head = "<tr><th>change vs baseline</th>" + "".join(f"<th>{_e(label)}</th>" for label in labels) + "</tr>"
    base = "<tr><td><b>" + _e(spec.baseline.name) + "</b> (baseline level)</td>" + "".join(
        level_cell(index.loc[(spec.baseline.name, k)]) for k in keys) + "</tr>"
    rows = [f"<tr><td><b>{_e(name)}</b></td>" + "".join(change_cell(index.loc[(name, k)]) for k in keys) + "</tr>" for name in others]
    return '<div class="wide"><table>\n' + "\n".join([head, base, *rows]) + "\n</table></div>"


def _summary_table(spec: ExperimentSpec, summary: pd.DataFrame) -> str:
    names = spec.names
    head = ("<tr><th>end point</th>" + f"<th>{_e(names[0])}<br><small>baseline</small></th>"
            + "".join(f"<th>{_e(n)}<br><small>change vs baseline below</small></th>" for n in names[1:]) + "</tr>")
    by_scenario = {name: rows.set_index("endpoint") for name, rows in summary.groupby("scenario", sort=False)}
    base = by_scenario[names[0]]
    rows, group = [head], None
    for key, label, this_group, primary in base[["label", "group", "primary"]].itertuples():
        if this_group != group:
            group = this_group
            rows.append(f'<tr class="group"><th colspan="{len(names) + 1}">{_e(group)}</th></tr>')
        cells = [level_cell(base.loc[key])] + [level_and_change_cell(by_scenario[name].loc[key]) for name in names[1:]]
        mark = '<span class="primary">primary</span>' if primary else ""
        rows.append(f'<tr><td class="label">{_e(label)}{mark}</td>{"".join(cells)}</tr>')
    return '<div class="wide"><table>\n' + "\n".join(rows) + "\n</table></div>"


# --------------------------------------------------------------------------- figures and provenance
def _figure(caption: str, png: bytes) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<figure><img alt="{_e(caption)}" src="data:image/png;base64,{data}"><figcaption>{_e(caption)}</figcaption></figure>'


def _precision_item(record: dict) -> list[tuple[str, str]]:
    """With --precision: what was asked for and reached (the primary end points' differences)."""
    goal = record.get("precision")
    if not goal:
        return []
    reached = "not computable" if goal["reached"] is None else f"±{goal['reached']:.1%}"
    verdict = "reached" if goal["met"] else f"not reached: stopped at the maximum of {goal['max_reps']} replications"
    return [("precision", _e(f"the primary end points' differences within ±{goal['target']:.1%} of the baseline mean asked for; "
                             f"{reached} with {goal['reps']} replications ({verdict})"))]


def _own_overrides(entry) -> str:
    """The overrides given for this scenario alone (`FILE:KEY=VALUE`)."""
    if not entry.overrides:
        return ""
    return " with " + ", ".join(f"<code>{_e(o)}</code>" for o in entry.overrides)


def _provenance(spec: ExperimentSpec, record: dict) -> str:
    versions = ", ".join(f"{k} {v}" for k, v in (record.get("versions") or {}).items() if v)
    git = record.get("git") or {}
    commit = git.get("commit") or "not a git checkout"
    if git.get("commit") and git.get("dirty"):
        commit += " (with uncommitted changes)"
    runs = record.get("runs") or {}
    wall = record.get("wall_time_s")
    items = [
        ("command", f"<code>{_e(record.get('command') or '(Python API)')}</code>"),
        ("scenario files", "<br>".join(f"{_e(e.name)}: <code>{_e(e.source)}</code>{_own_overrides(e)}" for e in spec.scenarios)),
        ("overrides (all scenarios)", _e(" ".join(f"--set {o}" for o in spec.overrides)) or "none"),
        ("primary end points", _e(", ".join(spec.primary))),
        ("seed", _e(spec.seed)),
        *_precision_item(record),
        ("replications", f"{spec.reps} per scenario ({runs.get('total', '?')} runs: {runs.get('run', '?')} run now, "
                         f"{runs.get('reused', '?')} reused from earlier invocations)"),
        ("steps", f"{spec.steps} of one {_e(spec.step)} ({_years(spec):g} years)"),
        ("population", ", ".join(f"{_e(e.name)}: {e.population:,}" for e in spec.scenarios)),
        ("wall time", "–" if wall is None else f"{wall:,.1f} s"),
        ("ran on", _e(record.get("backend", ""))),
        ("versions", _e(versions)),
        ("git commit", _e(commit)),
        ("experiment fingerprint", f"<code>{_e(spec.fingerprint[:16])}</code> (inputs and code; experiment.json has the full resolved scenarios)"),
    ]
    if record.get("mixed_code"):
        codes = sorted({describe_code(inv.get("code")) for inv in record.get("invocations", [])})
        items.append(("mixed code", _e(f"runs were made by {' and '.join(codes)} (--allow-code-change)")))
    return '<dl class="prov">\n' + "\n".join(f"<dt>{_e(k)}</dt><dd>{v}</dd>" for k, v in items) + "\n</dl>"
