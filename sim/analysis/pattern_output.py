"""The pattern report's files: patterns.csv, patterns.md and a self-contained patterns.html,
each written atomically (a crash leaves the old file or none, never half a table)."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pandas as pd

from sim.outputs.writer import write_atomic

INTRO = ("Each empirical pattern, the measure it is judged on, its value over seeds (median and range), the threshold, "
         "in how many seeds it holds, and whether it holds overall: in at least 80% of seeds, or, for the patterns "
         "judged on their mean, when its bootstrap CI lies beyond the threshold (the paired central-vs-random "
         "differences: 95% CI) or inside the band (stationarity: 90% CI, the two one-sided tests of an equivalence). "
         "Intervention patterns compare each replication with the baseline run of the same replication.")


def _number(x: float) -> str:
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return "–"
    return f"{x:.3g}"


def display_table(table: pd.DataFrame) -> pd.DataFrame:
    """The table as a reader sees it: one text cell per quantity."""
    out = pd.DataFrame({
        "Pattern": table["statement"],
        "Source": table["source"],
        "Measure": table["measure"],
        "Threshold": table["threshold"],
        "Median [min, max]": [f"{_number(m)} [{_number(lo)}, {_number(hi)}]" for m, lo, hi in zip(table["median"], table["min"], table["max"])],
        "Seeds holding": [f"{h}/{n}" for h, n in zip(table["seeds_holding"], table["seeds"])],
        "CI of the mean": ["" if np.isnan(lo) else f"{level:.0%}: [{_number(lo)}, {_number(hi)}]"
                           for level, lo, hi in zip(table["ci_level"], table["ci_low"], table["ci_high"])],
        "Holds": table["holds"],
    })
    if "sensitive_to" in table:
        out["Flipped by (±50%)"] = table["sensitive_to"].fillna("not run")
    return out


def markdown(table: pd.DataFrame, header: list[str]) -> str:
    shown = display_table(table)
    cells = lambda row: "| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |"
    lines = [cells(shown.columns), cells(["---"] * len(shown.columns)), *(cells(r) for r in shown.itertuples(index=False))]
    return "\n".join(["# Pattern report", "", *header, "", INTRO, "", *lines, ""])


def html_page(table: pd.DataFrame, header: list[str]) -> str:
    shown = display_table(table)
    head = "".join(f"<th>{html.escape(c)}</th>" for c in shown.columns)
    body = "".join("<tr>" + "".join(f'<td class="{_css(c, v)}">{html.escape(str(v))}</td>' for c, v in zip(shown.columns, r)) + "</tr>"
                   for r in shown.itertuples(index=False))
    notes = "".join(f"<li>{html.escape(line.lstrip('- '))}</li>" for line in header)
    style = ("body{font-family:sans-serif;margin:2em;max-width:110em}table{border-collapse:collapse}"
             "td,th{border:1px solid #ccc;padding:4px 6px;vertical-align:top;font-size:90%}th{background:#eee}"
             ".yes{background:#d8f0d8}.no{background:#f6d6d6}.nm{background:#eee;color:#666}")
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Pattern report</title><style>{style}</style></head><body>"
            f"<h1>Pattern report</h1><ul>{notes}</ul><p>{html.escape(INTRO)}</p>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></body></html>\n")


def _css(column: str, value) -> str:
    if column != "Holds":
        return ""
    return {"yes": "yes", "no": "no"}.get(str(value), "nm")


def write_report(out_dir: Path, table: pd.DataFrame, header: list[str], sensitivity: pd.DataFrame | None = None) -> list[Path]:
    """Write the table as CSV, Markdown and HTML (and the sensitivity runs' table) into `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [
        write_atomic(out_dir / "patterns.csv", lambda tmp: table.to_csv(tmp, index=False)),
        write_atomic(out_dir / "patterns.md", lambda tmp: tmp.write_text(markdown(table, header), encoding="utf-8")),
        write_atomic(out_dir / "patterns.html", lambda tmp: tmp.write_text(html_page(table, header), encoding="utf-8")),
    ]
    if sensitivity is not None:
        written.append(write_atomic(out_dir / "sensitivity.csv", lambda tmp: sensitivity.to_csv(tmp, index=False)))
    return written
