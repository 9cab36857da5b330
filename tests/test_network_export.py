"""`recruitsim run --export-networks`: the criminal networks as GraphML, one file per snapshot,
that networkx reads back with members, roles, networks and the ties among members by layer."""

from __future__ import annotations

import networkx as nx
import pandas as pd
import pytest
from click.testing import CliRunner

from sim.cli import cli
from sim.vocabulary import LAYERS, ORIGINS, ROLES


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("export") / "run"
    result = CliRunner().invoke(cli, ["run", "baseline", "--out", str(out), "--export-networks", "--quiet",
                                      "--set", "population.size=1500", "--set", "population.neighbourhood_size=500",
                                      "--set", "steps=26", "--set", "outputs.snapshot_every=13", "--set", "burn_in_years=0",
                                      "--set", "networks.initial_per_10k.phishing=60"])  # several networks in a small town
    assert result.exit_code == 0, result.output
    return out


def test_one_graph_per_snapshot(run_dir):
    snapshots = sorted(pd.read_parquet(run_dir / "networks.parquet")["step"].unique())
    assert [p.name for p in sorted((run_dir / "graphs").iterdir())] == [f"step_{s:06d}.graphml" for s in snapshots]


def test_graphs_hold_the_members_and_only_ties_among_them(run_dir):
    networks = pd.read_parquet(run_dir / "networks.parquet")
    for path in sorted((run_dir / "graphs").iterdir()):
        graph = nx.read_graphml(path, force_multigraph=True)
        step = int(path.stem.split("_")[1])
        active = networks[(networks["step"] == step) & (networks["status"] == "active")]
        assert graph.number_of_nodes() == active["size"].sum() > 0
        roles = pd.Series([d["role"] for _, d in graph.nodes(data=True)]).value_counts()
        for role in ROLES:
            assert roles.get(role, 0) == active[f"members_{role}"].sum(), role
        assert {d["origin"] for _, d in graph.nodes(data=True)} <= set(ORIGINS)
        assert graph.number_of_edges() > 0, "members have ties to one another (family, friends, ...)"
        for a, b, d in graph.edges(data=True):
            assert d["layer"] in LAYERS and 0 < d["strength"] <= 1
            assert a != b


def test_no_graphs_unless_asked(tmp_path):
    out = tmp_path / "plain"
    result = CliRunner().invoke(cli, ["run", "baseline", "--out", str(out), "--quiet", "--set", "population.size=300",
                                      "--set", "population.neighbourhood_size=150", "--set", "steps=4"])
    assert result.exit_code == 0 and not (out / "graphs").exists()
