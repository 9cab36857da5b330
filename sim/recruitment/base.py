"""What every recruitment rule shares: its parameters' base and the rule interface.

A rule decides *who is approached, by which network, for which role*; whether the candidate
accepts, and what joining means, is decided in one place (``sim.recruitment.attempts``) so
that all channels are comparable and every attempt is recorded the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from pydantic import Field

from sim.scenario.params import Section, prob

if TYPE_CHECKING:
    from sim.model import RecruitModel
    from sim.recruitment.market import RecruitmentMarket


class RuleParams(Section):
    """Keys every rule has."""

    enabled: bool = Field(True, description="switch the rule on or off")
    accept_base: float = prob(0.5, "acceptance probability of a perfectly motivated, fitting, trusting candidate")


class RecruitmentRule:
    """A recruitment channel. Subclasses set ``Params``, ``medium`` and implement ``step``."""

    name: ClassVar[str]
    Params: ClassVar[type[RuleParams]] = RuleParams
    medium: ClassVar[str] = "offline"  # how its approaches are made: "offline" or "online"

    def __init__(self, model: RecruitModel, params: RuleParams):
        self.model = model
        self.params = params
        # keyed by step and person (sim/rng.py): a rule's draws survive what other rules do
        self.random = model.streams.process(f"recruitment.{self.name}")

    def step(self, market: RecruitmentMarket) -> None:  # pragma: no cover - interface
        raise NotImplementedError
