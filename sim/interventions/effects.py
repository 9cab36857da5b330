"""Multiplicative effects that interventions put on model processes while in force.

Several interventions combine freely: each sets its own factor on a named effect, and the model
uses the product of the factors in force (1 when none is).
"""

from __future__ import annotations

import math
from collections import defaultdict

EFFECTS = ("losses", "mule_detection", "network_detection", "mule_network_detection")


def add_effect(current, effect: float):
    """Combine a new relative effect with what a person already has: 1 - (1 - current)(1 - effect),
    so repeated campaigns or warnings approach 1 but never pass it."""
    return 1.0 - (1.0 - current) * (1.0 - effect)


class Effects:
    def __init__(self):
        self._factors: dict[str, dict[int, float]] = defaultdict(dict)

    def set(self, effect: str, owner: int, factor: float) -> None:
        assert effect in EFFECTS, effect
        self._factors[effect][owner] = factor

    def clear(self, effect: str, owner: int) -> None:
        self._factors[effect].pop(owner, None)

    def factor(self, effect: str) -> float:
        return math.prod(self._factors[effect].values())
