"""Input that would exhaust the machine or crash the model: refused in one line, fast."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.errors import ScenarioError
from sim.scenario import load_scenario
from sim.scenario.loader import MAX_ALIAS_EXPANSION, MAX_DEPTH, MAX_FILE_BYTES


def write(tmp_path: Path, text: str, name: str = "scenario.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def one_line_error(path: Path, *overrides: str) -> str:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path, overrides)
    message = str(caught.value)
    assert "\n" not in message
    return message


def alias_bomb(levels: int = 10, width: int = 9) -> str:
    """A 'billion laughs' over mappings: each level names the previous one `width` times."""
    lines = ["a0: &a0 {" + ", ".join(f"k{j}: {j}" for j in range(width)) + "}"]
    for level in range(1, levels + 1):
        lines.append(f"a{level}: &a{level} {{" + ", ".join(f"k{j}: *a{level - 1}" for j in range(width)) + "}")
    return "\n".join(lines) + f"\npopulation: *a{levels}\n"


# --------------------------------------------------------------------------- loader bounds
def test_an_alias_bomb_is_refused_before_it_is_expanded(tmp_path):
    message = one_line_error(write(tmp_path, alias_bomb()))
    assert message.startswith(f"{tmp_path / 'scenario.yaml'}: ")
    assert f"more than {MAX_ALIAS_EXPANSION:,} values" in message


def test_an_alias_bomb_in_a_set_value_is_refused(tmp_path):
    bomb = alias_bomb(levels=8).replace("\n", ", ").replace("a0:", "{a0:").rstrip(", ") + "}"
    message = one_line_error(write(tmp_path, "name: ok\n"), f"population={bomb}")
    assert message.startswith("--set") and f"more than {MAX_ALIAS_EXPANSION:,} values" in message


def test_a_few_aliases_are_fine(tmp_path):
    text = "v: &common {size: 300}\npopulation: *common\n"
    with pytest.raises(ScenarioError, match="unknown key 'v'"):  # reaches validation: the aliases themselves are accepted
        load_scenario(write(tmp_path, text))


def test_a_self_referencing_alias_is_refused(tmp_path):
    message = one_line_error(write(tmp_path, "population: &loop [*loop]\n"))
    assert "refers to itself" in message


def test_deep_nesting_is_refused_without_a_recursion_error(tmp_path):
    message = one_line_error(write(tmp_path, "population: " + "[" * 20_000 + "]" * 20_000 + "\n"))
    assert f"nested more than {MAX_DEPTH} levels deep" in message


def test_deep_nesting_in_a_set_value_is_refused(tmp_path):
    message = one_line_error(write(tmp_path, "name: ok\n"), "population=" + "[" * 5_000 + "]" * 5_000)
    assert message.startswith("--set") and f"nested more than {MAX_DEPTH} levels deep" in message


def test_a_huge_file_is_refused_without_reading_it(tmp_path):
    path = tmp_path / "huge.yaml"
    with path.open("wb") as file:
        file.truncate(MAX_FILE_BYTES + 1)  # sparse: costs no disk
    message = one_line_error(path)
    assert "is larger than" in message and "a scenario is a few kilobytes" in message


def test_the_bounds_leave_room_for_every_shipped_scenario():
    for path in Path(__file__).parents[1].joinpath("scenarios").glob("*.yaml"):
        load_scenario(path)
