"""The registry of interventions.

An intervention is a class in its own module under ``sim/interventions/`` decorated with
``@register("type_name")``; its nested ``Params`` model (with ``type: Literal["type_name"]``)
becomes one allowed entry of the scenario's ``interventions:`` list.
"""

from sim.registry import Registry

INTERVENTIONS = Registry("intervention")
register = INTERVENTIONS.register
