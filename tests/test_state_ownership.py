"""Each person column has one owner, the module that writes it (sim/population.py `COLUMNS`).

The check reads the source: every assignment to `<...>.pop.<column>` (or `pop.<column>`),
augmented assignment, and `np.<ufunc>.at(pop.<column>, ...)` outside the column's owner fails.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from sim.population import COLUMNS, Population

SIM = Path(__file__).resolve().parent.parent / "sim"


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(SIM.parent).with_suffix("").parts)


def column_written(target: ast.expr) -> str | None:
    """The population column a target writes (`pop.x[...]`, `m.pop.x`, `self.pop.x[...] ...`), if any."""
    node = target.value if isinstance(target, ast.Subscript) else target
    if not (isinstance(node, ast.Attribute) and node.attr in COLUMNS):
        return None
    base = node.value
    named_pop = (isinstance(base, ast.Name) and base.id in ("pop", "population")) or (
        isinstance(base, ast.Attribute) and base.attr in ("pop", "_pop", "population"))
    return node.attr if named_pop else None


def writes(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AugAssign):
            targets = [node.target]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "at" and node.args:
            targets = [node.args[0]]  # np.add.at(pop.x, ...) writes pop.x
        for target in targets:
            for t in (target.elts if isinstance(target, ast.Tuple) else [target]):
                column = column_written(t)
                if column:
                    found.append((node.lineno, column))
    return found


def test_every_column_is_declared_and_allocated():
    pop_columns = {name for name, value in vars(Population).items()}  # methods only: columns live on instances
    assert not (set(COLUMNS) & pop_columns), "a column shadows a method"
    for name, column in COLUMNS.items():
        assert column.owner.startswith("sim."), name
        assert (SIM.parent / Path(*column.owner.split("."))).with_suffix(".py").is_file(), f"{name}: owner {column.owner} is no module"


@pytest.mark.parametrize("path", sorted(SIM.rglob("*.py")), ids=lambda p: module_name(p))
def test_only_a_columns_owner_writes_it(path):
    module = module_name(path)
    wrong = [f"{module}:{line} writes pop.{column} (owner: {COLUMNS[column].owner})"
             for line, column in writes(ast.parse(path.read_text())) if COLUMNS[column].owner != module]
    assert not wrong, "\n".join(wrong)


def test_the_check_sees_a_foreign_write():
    tree = ast.parse("m.pop.prison_until[x] = 3\npop.propensity[s] *= 0.5\nnp.add.at(self.pop.reputation, s, 1)\n")
    assert [column for _, column in writes(tree)] == ["prison_until", "propensity", "reputation"]
