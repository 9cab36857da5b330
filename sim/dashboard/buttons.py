"""The live-intervention buttons: what each adds to the running model and when its effect shows.

Each button adds one scenario `interventions:` entry to the run with interventions, acting from
the next step (`TwinRun.intervene`). The hints are what the trainer reads before pressing: what
the intervention does here and when the room will see it, from the model's own time scales
(docs/dashboard.md has the table, docs/ODD.md the mechanisms).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Button:
    label: str
    colour: str
    spec: Callable[[str], dict]  # the online space chosen (if the button targets one) -> the entry
    hint: str
    needs_space: bool = False


def takedown_spec(space: str) -> dict:
    return {"type": "forum_takedown", "target": space, "label": f"takedown {space}"}


def infiltration_spec(space: str) -> dict:
    return {"type": "forum_infiltration", "target": space, "share": 0.1, "label": f"infiltration {space}"}


ARREST_LARGEST = {"type": "arrests", "targeting": "network", "network": "largest", "share": 1.0, "label": "arrest largest network"}
ARREST_CORE = {"type": "arrests", "targeting": "network", "network": "largest", "role": "core", "share": 1.0,
               "label": "arrest core of largest network"}
AWARENESS = {"type": "awareness_campaign", "label": "mule awareness"}

BUTTONS = (
    Button("Take down", "error", takedown_spec, needs_space=True,
           hint="Closes the online space chosen: its activity drops to zero at the next step; 60% of its users move "
                "to the other spaces. Online recruitment dips within weeks; members fall slowly, over a year or two."),
    Button("Infiltrate", "warning", infiltration_spec, needs_space=True,
           hint="10% of the space's users become undercover officers or informants. Networks misjudge some as "
                "co-offenders and recruit them; detections rise over the following years, so the effect is slow and small."),
    Button("Arrest core", "primary", lambda _: ARREST_CORE,
           hint="Arrests every core member of the largest network at the next step. Watch its cell in the network "
                "view: within months it regroups around a new core or dissolves."),
    Button("Arrest network", "primary", lambda _: ARREST_LARGEST,
           hint="Arrests every member of the largest network at the next step: members drop at once. The gap "
                "narrows over years as other networks recruit and released members return."),
    Button("Mule campaign", "success", lambda _: AWARENESS,
           hint="A money-mule awareness campaign reaches 30% of 16-30 year olds: their willingness to act as a "
                "mule halves, fading with a one-year half-life. Online (mule) recruitment falls over the next year."),
)
BUTTON_BY_LABEL = {button.label: button for button in BUTTONS}
