"""Interventions: one module per type, collected in a registry; scheduled by `schedule.py`.

Importing this package registers every bundled intervention.
"""

from sim.interventions import (  # noqa: F401
    arrests,
    awareness_campaign,
    bank_hardening,
    cease_and_desist,
    diversion_programme,
    forum_infiltration,
    forum_takedown,
    police_capacity,
    public_private_partnership,
)
from sim.interventions.registry import INTERVENTIONS, register

__all__ = ["INTERVENTIONS", "register"]
