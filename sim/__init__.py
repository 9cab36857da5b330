"""recruitsim: an agent-based model of how people are drawn into cybercriminal networks.

`from sim import RecruitModel` is the Python entry point (see the README's Python example).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.1.0"

if TYPE_CHECKING:
    from sim.model import RecruitModel

__all__ = ["RecruitModel", "__version__"]


def __getattr__(name: str):
    # Imported on first use: the command line's light commands (validate, schema) do not pay for Mesa and the model.
    if name == "RecruitModel":
        from sim.model import RecruitModel

        return RecruitModel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
