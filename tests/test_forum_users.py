"""Forum users: a self-selected minority that churns; the forum search looks for each role where
people fit for it are; networks misjudge infiltration.

Small runs (2,000 persons, weekly steps). Tolerances come from the sampling error of the counts
involved (stated at each check).
"""

from __future__ import annotations

import numpy as np
import pytest

import sim.recruitment.forums as forums_module
from sim.places.online_spaces import FORUM_KINDS
from sim.vocabulary import ROLE
from tests.helpers import SMALL, cached_run, run, rules_off, scenario

TWO_YEARS = {"steps": 104, "population": {"size": 2000, "neighbourhood_size": 500}}


def test_forum_users_are_a_churning_minority_and_only_they_visit_forums_and_markets():
    model, results = cached_run(scenario(SMALL, **TWO_YEARS))
    ts = results.timeseries
    share = ts["forum_users"] / ts["population"]
    # a few per cent (the baseline's ~3%); 1-8% leaves room for sampling error at 2,000 persons (~60 users)
    assert 0.01 < share.mean() < 0.08
    # churn: with a quit hazard of 0.7 a year about half the users of a year ago have gone
    assert ts["forum_user_quits"].sum() > 0.5 * ts["forum_users"].mean()
    assert ts["forum_user_joins"].sum() > 0.5 * ts["forum_users"].mean()
    # the counts add up: users now = users before + joins - quits
    change = ts["forum_users"].diff().iloc[1:]
    assert (change == (ts["forum_user_joins"] - ts["forum_user_quits"]).iloc[1:]).all()
    online = model.online
    assert online.forum_user[online.active_mask(FORUM_KINDS)].all()
    chat = online.active_mask(("chat", "social_media"))
    assert (~online.forum_user[chat]).sum() > 10 * online.forum_user[chat].sum()  # mass spaces stay mass


def test_the_run_starts_at_the_stationary_share_of_forum_users():
    """No warm-up: the share in the first weeks is that of the second year (within ~4 sampling
    SDs of a count of ~60 users, plus the slow drift of ties and membership)."""
    _, results = cached_run(scenario(SMALL, **TWO_YEARS))
    users = results.timeseries["forum_users"]
    first, second_year = users.iloc[:4].mean(), users.iloc[52:].mean()
    assert abs(first - second_year) < 4 * np.sqrt(second_year) + 0.15 * second_year


def test_the_join_hazard_rises_with_skill_propensity_youth_peers_and_membership():
    model, _ = run(scenario(SMALL, steps=1), steps=0)
    online, pop = model.online, model.pop
    base = online.join_hazard(np.zeros(pop.size, dtype=bool))
    assert (online.join_hazard(np.ones(pop.size, dtype=bool)) >= base).all()
    f = model.config.places.forum_use
    expected = (f.join_rate * pop.online_activity * pop.it_skill * (1 + f.propensity_weight * pop.propensity)
                * np.where(pop.age < 25, f.youth_factor, 1.0) * np.where(pop.network >= 0, f.member_factor, 1.0))
    np.testing.assert_allclose(base, expected)


def test_leavers_stop_using_forums_and_newcomers_start_as_non_users():
    model, _ = run(scenario(SMALL, steps=1), steps=1)
    users = np.flatnonzero(model.online.forum_user)[:5]
    assert len(users) == 5
    model.online.forget_persons(users)
    assert not model.online.forum_user[users].any()
    for members in model.online.members.values():
        assert not members[users].any()


def test_takedown_users_who_do_not_move_keep_using_the_other_forums():
    sc = scenario(SMALL, steps=60, population={"size": 2000, "neighbourhood_size": 500},
                  interventions=[{"type": "forum_takedown", "target": "open_forum_a", "at": 1.0, "displacement_share": 0.0}])
    _, results = run(sc)
    ts = results.timeseries.set_index("step")
    # nobody moves: the forum's visits are lost, its users stay forum users (only the usual churn
    # of quit_rate 0.7/yr, about 1.3% a week, not the ~all of them a takedown once made quit)
    assert (ts.loc[53:, "active_users_open_forum_a"] == 0).all()
    assert ts.loc[53, "forum_user_quits"] < 0.05 * ts.loc[52, "forum_users"]
    assert ts.loc[54, "forum_users"] > 0.9 * ts.loc[52, "forum_users"]


def test_technical_roles_are_searched_where_the_forum_users_are(monkeypatch):
    """With only technical roles asked for, every candidate the forum search approaches is a forum
    user active on a forum or market in that step."""
    approached = []
    real = forums_module.resolve

    def spy(rule, market, draws, nets, slots, roles, trust, **kw):
        online = rule.model.online
        approached.append((np.asarray(slots).copy(), np.asarray(roles).copy(), online.active_mask(FORUM_KINDS)[slots].copy()))
        return real(rule, market, draws, nets, slots, roles, trust, **kw)

    monkeypatch.setattr(forums_module, "resolve", spy)
    sc = scenario(SMALL, steps=52, recruitment={**rules_off("offline_ties", "offline_venues", "adverts", "self_selection"),
                                                "rules": {"forums": {"role_weights": {"core": 0, "technical_enabler": 1, "recruiter": 0, "money_mule": 0}}}})
    run(sc)
    assert len(approached) > 0
    for slots, roles, on_forum in approached:
        assert (roles == ROLE["technical_enabler"]).all()
        assert on_forum.all()


def test_networks_perceive_their_own_share_of_an_infiltrated_space_s_trust_cut():
    model, _ = run(scenario(SMALL, steps=1), steps=0)
    rule = next(r for r in model.rules if r.name == "forums")
    space = model.online.by_name("open_forum_a")
    model.effects.set_space(space, "test", trust_factor=0.7, infiltration=0.1)
    where = np.full(1, space.code)
    factors = np.array([rule._as_perceived(key, where)[0][0] for key in range(200)])
    # between the full cut and none; networks differ; the mean perceived share is 0.5 (sd of the
    # mean of 200 uniforms on [0, 1]: 0.02)
    assert (factors >= 0.7 - 1e-12).all() and (factors <= 1.0).all()
    assert len(np.unique(factors)) > 100
    assert abs((1 - factors).mean() / 0.3 - 0.5) < 0.08
    # a network's judgement lasts: the same key, the same factor
    assert rule._as_perceived(5, where)[0][0] == factors[5]
    # the informant chance is the true infiltration, whatever the network perceives
    assert rule._as_perceived(5, where)[1][0] == pytest.approx(0.1)
