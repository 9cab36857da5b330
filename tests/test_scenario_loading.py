"""Loading scenarios: extends chains, --set overrides, and one-line errors naming file, key and what is allowed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import get_args

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from sim.scenario import Scenario, ScenarioError, load_scenario
from sim.scenario.loader import apply_override, load_resolved, parse_override
from sim.scenario.params import deep_merge
from sim.scenario.schema import PopulationParams
from sim.vocabulary import OfflineLayerName

DATA = Path(__file__).parent / "data"
BUNDLED = sorted((Path(__file__).parents[1] / "scenarios").glob("*.yaml"))
DEFAULTS = Scenario()
POPULATION_KEYS = ", ".join(PopulationParams.model_fields)
SCENARIO_KEYS = ", ".join(Scenario.model_fields)


def write(tmp_path: Path, text: str, name: str = "scenario.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(path: Path, overrides: tuple[str, ...] = ()) -> str:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path, overrides)
    message = str(caught.value)
    assert "\n" not in message, "errors must be one line"
    return message


# --------------------------------------------------------------------------- loading
def test_a_minimal_file_takes_the_defaults_and_its_file_name(tmp_path):
    scenario = load_scenario(write(tmp_path, "steps: 10\n", "my_run.yaml"))
    assert scenario.name == "my_run"
    assert scenario.steps == 10
    assert scenario.population == PopulationParams()


def test_a_name_in_the_file_wins_over_the_file_name():
    assert load_scenario(DATA / "base.yaml").name == "base"


def test_extends_merges_mappings_and_replaces_lists_and_values():
    scenario = load_scenario(DATA / "child.yaml")
    assert scenario.population.size == 300  # child
    assert scenario.population.neighbourhood_size == 100  # base, a sibling of an overridden key
    assert (scenario.population.it_skill.a, scenario.population.it_skill.b) == (2.0, 8.0)  # merged sub-section
    phishing = scenario.networks.business_models["phishing"]
    assert phishing.enabler_specialisms == ["hacker"]  # list replaced, not appended
    assert phishing.offence_rate == 10  # base
    assert (scenario.steps, scenario.description) == (52, "small test population")


def test_extends_does_not_pass_on_the_name_or_itself():
    scenario = load_scenario(DATA / "child.yaml")
    assert scenario.name == "child"
    assert scenario.extends is None


def test_extends_chains_resolve_relative_to_each_extending_file():
    scenario = load_scenario(DATA / "variants" / "grandchild.yaml")
    assert (scenario.name, scenario.steps, scenario.population.size, scenario.population.neighbourhood_size) == ("grandchild", 26, 300, 100)


def test_deep_merge_recurses_into_mappings_only_and_leaves_its_inputs_alone():
    base = {"a": {"x": 1, "y": [1, 2]}, "b": {"z": 1}, "c": 1}
    override = {"a": {"y": [3]}, "b": 5, "c": {"new": 2}}
    assert deep_merge(base, override) == {"a": {"x": 1, "y": [3]}, "b": 5, "c": {"new": 2}}
    assert base == {"a": {"x": 1, "y": [1, 2]}, "b": {"z": 1}, "c": 1}


# --------------------------------------------------------------------------- --set
@pytest.mark.parametrize(
    ("text", "value"),
    [("seed=3", 3), ("a=0.5", 0.5), ("a=true", True), ("a=[a, b]", ["a", "b"]), ("a=month", "month"), ("a=", None), ("a={x: 1}", {"x": 1})],
)
def test_set_values_are_read_as_yaml(text, value):
    assert parse_override(text).value == value


def test_set_paths_create_missing_mappings_without_touching_the_input():
    data = {"population": {"size": 5}, "seed": 1}
    updated = apply_override(data, parse_override("population.it_skill.a=3"))
    assert updated == {"population": {"size": 5, "it_skill": {"a": 3}}, "seed": 1}
    assert data == {"population": {"size": 5}, "seed": 1}


def test_set_beats_extends_and_a_later_set_beats_an_earlier_one():
    scenario = load_scenario(DATA / "child.yaml", ["population.size=400", "steps=3", "steps=4", "population.it_skill.a=3"])
    assert (scenario.population.size, scenario.steps) == (400, 4)
    assert (scenario.population.it_skill.a, scenario.population.it_skill.b) == (3, 8.0)


def test_set_can_rename_the_scenario():
    assert load_scenario(DATA / "child.yaml", ["name=other"]).name == "other"


@pytest.mark.parametrize("text", ["xyz", "=3", "a..b=1", ".a=1"])
def test_set_without_a_key_path_and_value_is_an_error(tmp_path, text):
    assert error_of(write(tmp_path, "{}"), (text,)) == f"--set {text!r}: expected KEY.PATH=VALUE"


def test_set_with_a_value_that_is_not_yaml_is_an_error(tmp_path):
    assert error_of(write(tmp_path, "{}"), ("steps=[1",)).startswith("--set 'steps=[1': the value is not valid YAML (")


def test_set_cannot_change_extends(tmp_path):
    assert error_of(write(tmp_path, "{}"), ("extends=x.yaml",)).startswith("--set 'extends=x.yaml': extends cannot be set")


def test_an_error_in_a_key_from_set_names_the_set(tmp_path):
    path = write(tmp_path, "{}")
    assert error_of(path, ("population.sise=3",)) == (
        f"{path}: population.sise: unknown key 'sise' (did you mean 'size'? allowed: {POPULATION_KEYS}) (from --set population.sise=3)"
    )


def test_a_section_check_broken_by_set_names_the_set(tmp_path):
    assert error_of(write(tmp_path, "{}"), ("population.min_age=80",)).endswith("must be larger than min_age (80.0) (from --set population.min_age=80)")


def test_a_missing_key_in_an_entry_made_by_set_names_the_set(tmp_path):
    path = write(tmp_path, "{}")
    assert error_of(path, ("places.online_spaces.x.visit_rate=3",)) == (
        f"{path}: places.online_spaces.x.kind: is required (allowed: open_forum, gated_forum, market, chat, social_media)"
        " (from --set places.online_spaces.x.visit_rate=3)"
    )


# --------------------------------------------------------------------------- validation errors
def test_unknown_key_suggests_the_closest_key_and_lists_the_allowed_ones(tmp_path):
    path = write(tmp_path, "population:\n  sise: 3\n")
    assert error_of(path) == f"{path}: population.sise: unknown key 'sise' (did you mean 'size'? allowed: {POPULATION_KEYS})"


def test_unknown_key_without_a_close_match_lists_the_allowed_ones(tmp_path):
    path = write(tmp_path, "zzzz: 1\n")
    assert error_of(path) == f"{path}: zzzz: unknown key 'zzzz' (allowed: {SCENARIO_KEYS})"


def test_unknown_recruitment_rule_suggests_a_registered_rule(tmp_path):
    path = write(tmp_path, "recruitment:\n  rules:\n    forum: {enabled: false}\n")
    message = error_of(path)
    assert message.startswith(f"{path}: recruitment.rules.forum: unknown key 'forum' (did you mean 'forums'? allowed: ")
    assert "offline_ties" in message


def test_unknown_key_of_a_mapping_with_fixed_keys_suggests_one(tmp_path):
    path = write(tmp_path, "ties:\n  half_life_years: {famly: 1}\n")
    assert error_of(path) == (
        f"{path}: ties.half_life_years.famly: unknown key 'famly' (did you mean 'family'? allowed: family, school_work, friend, neighbourhood, forum, chat, co_offending)"
    )


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        ("population: {size: abc}", "population.size: expected an integer, got 'abc' (allowed: 10 to 10000000)"),
        ("population: {size: 2.5}", "population.size: expected an integer, got 2.5 (allowed: 10 to 10000000)"),
        ("population: {male_share: lots}", "population.male_share: expected a number, got 'lots' (allowed: 0 to 1)"),
        ("recruitment: {rules: {forums: {enabled: maybe}}}", "recruitment.rules.forums.enabled: expected true or false, got 'maybe'"),
        ("description: [a, b]", "description: expected a string, got [a, b]"),
        ("population: 3", f"population: expected a mapping of keys to values, got 3 (allowed keys: {POPULATION_KEYS})"),
        (
            "networks: {business_models: {phishing: {enabler_specialisms: coder}}}",
            "networks.business_models.phishing.enabler_specialisms: expected a list, got 'coder' (allowed items: none, coder, hacker, hosting, social_engineering, cash_out)",
        ),
    ],
)
def test_wrong_type_says_what_was_expected_and_what_was_given(tmp_path, yaml_text, expected):
    path = write(tmp_path, yaml_text)
    assert error_of(path) == f"{path}: {expected}"


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        ("seed: -1", "seed: must be >= 0, got -1"),
        ("population: {size: 1}", "population.size: must be >= 10, got 1 (allowed: 10 to 10000000)"),
        ("population: {male_share: 2}", "population.male_share: must be <= 1, got 2 (allowed: 0 to 1)"),
        ("population: {it_skill: {a: 0}}", "population.it_skill.a: must be >= 0.1, got 0"),
        ("networks: {initial_per_10k: {phishing: -1}}", "networks.initial_per_10k.phishing: must be >= 0, got -1 (allowed: 0 to 10000)"),
        ("networks: {initial: {phishing: 1}}", "networks: 'initial' was renamed 'initial_per_10k' and now counts networks per 10,000 persons (the counts scale with population.size): write networks.initial_per_10k"),
        ("networks: {online_founding_share: 0.5}", "networks: 'online_founding_share' was replaced by 'founding_rate_forum', a founding rate of forum users whose networks are born online (per person per year, default 0.03; docs/ODD.md 7.11): write networks.founding_rate_forum"),
    ],
)
def test_out_of_range_says_the_bound_and_the_value(tmp_path, yaml_text, expected):
    path = write(tmp_path, yaml_text)
    assert error_of(path) == f"{path}: {expected}"


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        ("step: year", "step: 'year' is not allowed (allowed: day, week, month)"),
        ("places: {venues: {school: {layer: forum}}}", "places.venues.school.layer: 'forum' is not allowed (allowed: school_work, friend, neighbourhood)"),
        (
            "networks: {business_models: {phishing: {enabler_specialisms: [coder, wizard]}}}",
            "networks.business_models.phishing.enabler_specialisms[1]: 'wizard' is not allowed (allowed: none, coder, hacker, hosting, social_engineering, cash_out)",
        ),
    ],
)
def test_a_value_outside_a_choice_lists_the_choices(tmp_path, yaml_text, expected):
    path = write(tmp_path, yaml_text)
    assert error_of(path) == f"{path}: {expected}"


def test_a_section_check_reports_its_own_message(tmp_path):
    path = write(tmp_path, "population: {min_age: 50, max_age: 40}")
    assert error_of(path) == f"{path}: population: max_age (40.0) must be larger than min_age (50.0)"


def test_an_empty_name_is_an_error(tmp_path):
    path = write(tmp_path, "name: ''")
    assert error_of(path) == f"{path}: name: must not be empty"


def test_a_key_yaml_reads_as_a_boolean_gets_a_hint(tmp_path):
    path = write(tmp_path, "on: 3")
    assert "keys must be strings (quote the key: YAML reads unquoted yes/no/on/off as true/false" in error_of(path)


def test_several_errors_report_only_the_first_in_schema_order(tmp_path):
    path = write(tmp_path, "population: {size: abc, male_share: 7}\nstep: year\n")
    assert error_of(path) == f"{path}: step: 'year' is not allowed (allowed: day, week, month)"  # `step` comes before `population`


def test_an_error_in_a_key_from_a_base_file_names_the_base_file(tmp_path):
    base = write(tmp_path, "population: {size: -5}\n", "base.yaml")
    child = write(tmp_path, "extends: base.yaml\nsteps: 3\n", "child.yaml")
    assert error_of(child) == f"{base}: population.size: must be >= 10, got -5 (allowed: 10 to 10000000)"


# --------------------------------------------------------------------------- file errors
def test_a_missing_file_is_an_error(tmp_path):
    path = tmp_path / "nope.yaml"
    assert error_of(path) == f"{path}: file not found"


def test_a_directory_is_not_a_scenario(tmp_path):
    assert error_of(tmp_path) == f"{tmp_path}: is a directory, expected a YAML scenario file"


def test_a_missing_extends_file_names_the_extending_file_and_the_key(tmp_path):
    child = write(tmp_path, "extends: nope.yaml\n", "child.yaml")
    assert error_of(child) == (
        f"{child}: extends: file 'nope.yaml' not found (looked for {tmp_path / 'nope.yaml'}; the path is relative to the extending file)"
    )


def test_extends_must_be_a_path(tmp_path):
    path = write(tmp_path, "extends: 3\n")
    assert error_of(path) == f"{path}: extends: expected the path of a scenario file, got 3"


def test_an_extends_cycle_is_an_error_that_shows_the_cycle():
    first, second = DATA / "cycle_a.yaml", DATA / "cycle_b.yaml"
    assert error_of(first) == (
        f"{second}: extends: cycle {first} -> {second} -> {first} (a scenario cannot extend itself, directly or through others)"
    )


def test_a_file_extending_itself_is_a_cycle(tmp_path):
    path = write(tmp_path, "extends: scenario.yaml\n")
    assert error_of(path).startswith(f"{path}: extends: cycle {path} -> {path} (")


def test_a_yaml_syntax_error_names_the_line(tmp_path):
    path = write(tmp_path, "steps: 3\npopulation:\n  size: 3\n bad: 4\n")
    assert error_of(path) == (f"{path}:4: YAML syntax error: expected <block end>, but found '<block mapping start>' "
                              "(check the indentation: the keys of one mapping must line up, indented with spaces, not tabs)")


@pytest.mark.parametrize("text", ["population:\n  size: 3\n   steps: 3\n", "population:\n\tsize: 3\n"])
def test_an_indentation_error_says_so_in_plain_words(tmp_path, text):
    assert "(check the indentation: " in error_of(write(tmp_path, text))


def test_other_yaml_errors_get_no_indentation_hint(tmp_path):
    assert "indentation" not in error_of(write(tmp_path, "steps: [3\n"))


def test_yaml_tags_that_would_run_code_are_refused(tmp_path):
    path = write(tmp_path, "seed: !!python/object/apply:os.getcwd []\n")
    assert error_of(path).startswith(f"{path}:1: YAML syntax error: could not determine a constructor")


@pytest.mark.parametrize(
    ("yaml_text", "kind"),
    [("- a\n- b\n", "a list"), ("just text\n", "a single string"), ("", "an empty file"), ("# only a comment\n", "an empty file"), ("3\n", "a single value (3)")],
)
def test_the_top_level_must_be_a_mapping(tmp_path, yaml_text, kind):
    path = write(tmp_path, yaml_text)
    assert error_of(path) == f"{path}: the top level must be a mapping of keys to values, got {kind}"


def test_a_key_given_twice_is_an_error_naming_the_line(tmp_path):
    path = write(tmp_path, "population:\n  size: 100\n  size: 200\n")
    with pytest.raises(ScenarioError, match=r"scenario.yaml:3: .*duplicate key 'size'"):
        load_scenario(path)


def test_named_entries_merge_into_the_defaults_and_null_removes_one(tmp_path):
    path = write(tmp_path, "places:\n  venues:\n    school: {visit_rate: 10}\n    hangout: null\nnetworks:\n  initial_per_10k: {phishing: 9}\n")
    scenario = load_scenario(path)
    default = Scenario()
    assert scenario.places.venues["school"].visit_rate == 10
    assert scenario.places.venues["school"].per_neighbourhood == default.places.venues["school"].per_neighbourhood
    assert "hangout" not in scenario.places.venues and "nightlife" in scenario.places.venues
    assert scenario.networks.initial_per_10k == {**default.networks.initial_per_10k, "phishing": 9}


@pytest.mark.parametrize("yaml_text", ["seed: true\n", "steps: '10'\n", "population: {migration_rate: .inf}\n"])
def test_values_of_the_wrong_kind_are_not_coerced(tmp_path, yaml_text):
    with pytest.raises(ScenarioError):
        load_scenario(write(tmp_path, yaml_text))


# --------------------------------------------------------------------------- exact scenarios
def round_trip(scenario: Scenario) -> Scenario:
    """What a worker or a re-run from a manifest gets: the resolved dump, through JSON text."""
    return Scenario.from_resolved(json.loads(json.dumps(scenario.resolved())))


@pytest.mark.parametrize("path", BUNDLED, ids=lambda path: path.stem)
def test_every_bundled_scenario_survives_its_dump_exactly(path):
    scenario = load_scenario(path)
    back = round_trip(scenario)
    assert back == scenario
    assert back.resolved() == scenario.resolved()


REMOVING = """
places:
  online_spaces: {gated_forum: null}
  venues: {hangout: null}
networks:
  business_models: {carding: null}
  initial_per_10k: {carding: null}
population:
  specialism_shares: {hosting: null}
"""


def test_removed_entries_stay_removed_through_the_dump(tmp_path):
    scenario = load_scenario(write(tmp_path, REMOVING))
    back = round_trip(scenario)
    assert "gated_forum" not in back.places.online_spaces and "hangout" not in back.places.venues
    assert "carding" not in back.networks.business_models and "carding" not in back.networks.initial_per_10k
    assert "hosting" not in back.population.specialism_shares
    assert back == scenario


def test_a_resolved_scenario_must_state_every_key():
    # a partial mapping is a user's scenario, to be merged; taken as exact it would silently lose entries
    dump = DEFAULTS.resolved()
    del dump["places"]["venues"]["school"]["visit_rate"]
    with pytest.raises(ValidationError, match="a resolved scenario states every key; missing: visit_rate"):
        Scenario.from_resolved(dump)


def test_a_broken_resolved_scenario_is_one_line_naming_its_file(tmp_path):
    dump = {**DEFAULTS.resolved(), "steps": 0}
    with pytest.raises(ScenarioError) as caught:
        load_resolved(dump, tmp_path / "manifest.json")
    assert str(caught.value).startswith(f"{tmp_path / 'manifest.json'}: steps: must be >= 1, got 0")
    with pytest.raises(ScenarioError, match="scenario: expected a mapping"):
        load_resolved([1, 2], tmp_path / "manifest.json")


# Random valid scenarios as a user writes them: named entries removed, changed and added, and
# plain keys changed. Hypothesis looks for one whose dump does not give it back exactly.
NEW_NAME = st.from_regex(r"new_[a-z]{1,6}", fullmatch=True)
SHARE = st.floats(0.0, 0.2, allow_nan=False)
RATE = st.floats(0.0, 500.0, allow_nan=False)


def removals(defaults) -> st.SearchStrategy[dict]:
    return st.sets(st.sampled_from(sorted(defaults))).map(lambda names: dict.fromkeys(names))


@st.composite
def user_scenarios(draw) -> dict:
    venues = draw(removals(DEFAULTS.places.venues))
    venues |= draw(st.dictionaries(NEW_NAME, st.fixed_dictionaries({"visit_rate": RATE, "layer": st.sampled_from(get_args(OfflineLayerName))}), max_size=2))
    venues |= draw(st.dictionaries(st.sampled_from(sorted(DEFAULTS.places.venues)), st.fixed_dictionaries({"contacts_per_visit": st.floats(0, 50)}), max_size=2))
    spaces = draw(removals(DEFAULTS.places.online_spaces))
    spaces |= draw(st.dictionaries(NEW_NAME, st.fixed_dictionaries({"kind": st.sampled_from(["open_forum", "gated_forum", "market", "chat"]), "visit_rate": RATE}), max_size=2))
    models = draw(removals(DEFAULTS.networks.business_models))
    new_models = draw(st.dictionaries(NEW_NAME, st.fixed_dictionaries({"offence_rate": RATE}), max_size=2))
    # a removed business model leaves `initial` too; a new one may seed networks
    initial = {**dict.fromkeys(models), **{name: draw(st.integers(0, 5)) for name in new_models}}
    return {
        "seed": draw(st.integers(0, 2**63)),
        "steps": draw(st.integers(1, 1_000_000)),
        "step": draw(st.sampled_from(["day", "week", "month"])),
        "population": {"size": draw(st.integers(10, 10_000_000)), "specialism_shares": draw(st.dictionaries(st.sampled_from(["coder", "hacker", "hosting", "cash_out"]), st.none() | SHARE))},
        "places": {"venues": venues, "online_spaces": spaces},
        "networks": {"business_models": {**models, **new_models}, "initial_per_10k": initial},
    }


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(user_scenarios())
def test_any_valid_scenario_survives_its_dump_exactly(data):
    scenario = Scenario.model_validate(data)
    back = round_trip(scenario)
    assert back == scenario
    for mapping in ("venues", "online_spaces"):
        removed = {name for name, value in data["places"][mapping].items() if value is None}
        assert not removed & set(getattr(back.places, mapping))
