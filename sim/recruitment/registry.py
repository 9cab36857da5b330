"""The registry of recruitment rules.

A rule is a class in its own module under ``sim/recruitment/`` decorated with
``@register("name")``. Its nested ``Params`` model becomes the scenario section
``recruitment.rules.<name>``, so adding a rule never means editing the model or the schema.
"""

from sim.registry import Registry

RULES = Registry("recruitment rule")
register = RULES.register
