"""The registry of interventions.

An intervention is a class in its own module under ``sim/interventions/`` decorated with
``@register("type_name")``; its nested ``Params`` model (with ``type: Literal["type_name"]``)
becomes one allowed entry of the scenario's ``interventions:`` list.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.interventions.base import Intervention

INTERVENTIONS: dict[str, type[Intervention]] = {}


def register(name: str):
    def decorate(cls):
        if name in INTERVENTIONS:
            raise ValueError(f"intervention {name!r} registered twice")
        cls.name = name
        INTERVENTIONS[name] = cls
        return cls

    return decorate
