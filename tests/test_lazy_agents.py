"""Person agents are made on first use (the simulation reads only the numpy columns), and once
made they follow turnover: each slot's agent views the person now in it."""

from __future__ import annotations

from sim.agents import CriminalNetwork, Person
from sim.model import RecruitModel


def _model() -> RecruitModel:
    return RecruitModel.from_yaml("baseline", population={"size": 1500}, steps=60)


def test_person_agents_are_made_when_first_asked_for():
    m = _model()
    assert Person not in m._agents_by_type, "no Person agent before anyone asks"
    assert CriminalNetwork in m.agents_by_type
    assert len(m.agents_by_type[Person]) == m.pop.size, "asking for the agents makes them"
    assert len(m.agents) == m.pop.size + len(m.network_agents)


def test_person_agents_made_early_follow_turnover():
    m = _model()
    before = list(m.person_agents)
    for _ in range(60):
        m.step()
    after = m.person_agents
    assert [a.slot for a in after] == list(range(m.pop.size))
    assert all(a.person_id == m.pop.person_id[a.slot] for a in after)
    replaced = [slot for slot, (old, new) in enumerate(zip(before, after)) if old is not new]
    assert replaced, "somebody left in 60 weeks"
    assert set(m.agents_by_type[Person]) == set(after), "replaced agents left Mesa's agent set"


def test_outputs_do_not_depend_on_when_agents_are_made():
    lazy, eager = _model(), _model()
    eager.person_agents  # noqa: B018
    for _ in range(60):
        lazy.step()
        eager.step()
    assert lazy.results().timeseries.equals(eager.results().timeseries)
    assert lazy.results().events.equals(eager.results().events)
