"""The registry of recruitment rules.

A rule is a class in its own module under ``sim/recruitment/`` decorated with
``@register("name")``. Its nested ``Params`` model becomes the scenario section
``recruitment.rules.<name>``, so adding a rule never means editing the model or the schema.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.recruitment.base import RecruitmentRule

RULES: dict[str, type[RecruitmentRule]] = {}


def register(name: str):
    """Class decorator: make a rule available under ``recruitment.rules.<name>``."""

    def decorate(cls):
        if name in RULES:
            raise ValueError(f"recruitment rule {name!r} registered twice")
        cls.name = name
        RULES[name] = cls
        return cls

    return decorate
