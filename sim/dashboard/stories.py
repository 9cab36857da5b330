"""Presenter stories: scripted sequences of interventions that play by themselves.

A story is a title, one sentence for the room, and scenario `interventions:` entries with their
years. Playing one starts the run again from the end of the burn-in, schedules the entries on
the run with interventions (the twin runs without them) and plays: the trainer talks while the
marks appear on the plots at the years announced.

A trainer's own story is the session file the page downloads (the buttons pressed, at their
years): `recruitsim dashboard my_session.yaml` opens on it, and its interventions then act as
the scenario's own; **Replay my buttons** plays the buttons pressed so far again from year 0.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Story:
    title: str
    summary: str
    steps: tuple[dict, ...]  # scenario interventions: entries with `at` (years after the burn-in)

    def missing_spaces(self, spaces: list[str]) -> list[str]:
        """Online spaces the story targets that the scenario does not have."""
        return [s["target"] for s in self.steps if "target" in s and s["target"] not in spaces]

    def describe(self) -> str:
        return "; ".join(f"year {step['at']:g}: {step['label']}" for step in self.steps)


STORIES = (
    Story("Take down a forum, then arrest a core",
          "The open forum goes first: online recruitment collapses, offline recruitment carries on. "
          "Two years later the core of the largest network is arrested: watch it regroup or dissolve.",
          ({"type": "forum_takedown", "target": "open_forum_a", "at": 1.0, "label": "takedown open_forum_a"},
           {"type": "arrests", "targeting": "network", "network": "largest", "role": "core", "share": 1.0, "at": 3.0,
            "label": "arrest core of largest network"})),
    Story("Arrest a whole network",
          "Every member of the largest network is arrested in year 1: members drop at once; the "
          "gap narrows as other networks recruit and released members come back.",
          ({"type": "arrests", "targeting": "network", "network": "largest", "share": 1.0, "at": 1.0,
            "label": "arrest largest network"},)),
    Story("Prevention: warn the young about money muling",
          "A money-mule awareness campaign in year 1 and again in year 3: fewer mules are recruited "
          "online; the effect fades with a one-year half-life.",
          ({"type": "awareness_campaign", "at": 1.0, "label": "mule awareness (year 1)"},
           {"type": "awareness_campaign", "at": 3.0, "label": "mule awareness (year 3)"})),
)
STORY_BY_TITLE = {story.title: story for story in STORIES}
