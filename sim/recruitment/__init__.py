"""Recruitment rules: one module per channel, collected in a registry.

Importing this package registers every bundled rule.
"""

from sim.recruitment import adverts, forums, offline_ties, offline_venues, self_selection  # noqa: F401
from sim.recruitment.registry import RULES, register

__all__ = ["RULES", "register"]
