"""Recruitment rules: one module per channel, collected in a registry.

Importing this package imports every module in it, so a rule registers itself: a new rule is a
new module here with a `@register("name")` class, and nothing else needs an edit. Modules are
imported in name order (pkgutil sorts them), which is the order of the rules in the schema and
the generated docs; the model's own order of rules each step is drawn at random, by name.
"""

import importlib
import pkgutil

from sim.recruitment.registry import RULES, register

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["RULES", "register"]
