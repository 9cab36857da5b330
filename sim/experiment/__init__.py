"""Experiments: many replications of several scenarios, compared with a baseline.

    from sim.experiment import compare
    result = compare(["scenarios/baseline.yaml", "scenarios/forum_takedown.yaml"], reps=10, workers=2)
    result.summary          # end points per scenario: mean, 95% CI, paired % change vs the baseline
    result.report           # OUT/report.html

See docs/experiments.md. Modules: `spec` (what is compared), `replicate` (one run into one shard),
`backends` (where runs execute), `aggregate` and `endpoints` (statistics), `figures` and `report`
(what a reader sees), `store`, `provenance` and `outputs` (the output directory), `compare` (all
of it in order).
"""

from sim.experiment.compare import Comparison, compare, run_experiment
from sim.experiment.errors import ExperimentError
from sim.experiment.spec import ExperimentSpec, load_experiment

__all__ = ["Comparison", "ExperimentError", "ExperimentSpec", "compare", "load_experiment", "run_experiment"]
