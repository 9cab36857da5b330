"""Adding a recruitment rule is adding one module: sim/recruitment/__init__.py imports every module
of the package, so the rule registers itself and its keys appear in the scenario schema."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

SIM = Path(__file__).resolve().parents[1] / "sim"

NEW_RULE = '''"""Word of mouth: a rule added by dropping this module into sim/recruitment/."""
from pydantic import Field

from sim.recruitment.base import RecruitmentRule, RuleParams
from sim.recruitment.registry import register


@register("word_of_mouth")
class WordOfMouth(RecruitmentRule):
    """Word of mouth between members' friends."""

    class Params(RuleParams):
        chats_per_year: float = Field(2.0, ge=0, description="chats per member per year")

    def step(self, market) -> None:
        pass
'''

CHECK = """
from sim.recruitment import RULES
from sim.scenario import Scenario
print(list(RULES))
print(Scenario.model_validate({"recruitment": {"rules": {"word_of_mouth": {"chats_per_year": 5}}}}).recruitment.rules.word_of_mouth.chats_per_year)
"""


def test_a_new_rule_module_registers_itself_with_no_other_edit(tmp_path):
    copy = tmp_path / "sim"
    shutil.copytree(SIM, copy, ignore=shutil.ignore_patterns("__pycache__", "scenarios"))
    (copy / "recruitment" / "word_of_mouth.py").write_text(NEW_RULE, encoding="utf-8")
    done = subprocess.run([sys.executable, "-c", CHECK], cwd=tmp_path, env={"PYTHONPATH": str(tmp_path)}, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    rules, value = done.stdout.splitlines()
    assert "word_of_mouth" in rules and value == "5.0"
