"""A name -> class registry filled by a class decorator: how recruitment rules and
interventions plug in without edits to the model or the schema."""

from __future__ import annotations


class Registry(dict):
    """Classes by name, in registration order; `register(name)` is the decorator."""

    def __init__(self, what: str):
        super().__init__()
        self.what = what

    def register(self, name: str):
        def decorate(cls):
            if name in self:
                raise ValueError(f"{self.what} {name!r} registered twice")
            cls.name = name
            self[name] = cls
            return cls

        return decorate
