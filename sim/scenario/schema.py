"""The scenario schema: every key a scenario may set, with its type, range, unit and default.

Defaults make up the baseline; `scenarios/baseline.yaml` restates the important ones with their
sources. Rates are per year and are turned into per-step probabilities by the step length
(`step`), so a scenario means the same whatever the step length.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import Field, ValidationInfo, create_model, field_validator, model_validator

from sim.interventions import INTERVENTIONS
from sim.recruitment import RULES
from sim.scenario.params import (
    RESOLVED,
    AgeBand,
    Beta,
    NonNegative,
    Probability,
    Section,
    is_resolved,
    merge_named_entries,
    prob,
    rate,
)
from sim.vocabulary import (
    LAYERS,
    OFFLINE_LAYERS,
    SPECIALISMS,
    LayerName,
    OfflineLayerName,
    OnlineKind,
    SpecialismName,
    StepName,
)


def _merging(field: str, defaults):
    """A before-validator merging the mapping `field` into its default entries (not in a resolved
    scenario: its mapping is the result of that merge already)."""

    def merge(cls, data, info: ValidationInfo):
        if isinstance(data, dict) and field in data and not is_resolved(info):
            dumped = {k: (v.model_dump() if hasattr(v, "model_dump") else v) for k, v in defaults().items()}
            data = {**data, field: merge_named_entries(dumped, data[field])}
        return data

    return model_validator(mode="before")(classmethod(merge))


# --------------------------------------------------------------------------- population
class PopulationParams(Section):
    size: int = Field(10_000, ge=10, le=10_000_000, description="number of persons (kept stable by entries and exits)")
    neighbourhood_size: int = Field(500, ge=1, le=10_000_000, description="residents per neighbourhood: the town has population.size / neighbourhood_size neighbourhoods (rounded, at least one), so a bigger town has more neighbourhoods, not bigger ones (assumption: a Dutch 'wijk' has a few hundred to a few thousand residents)")
    min_age: float = Field(12.0, ge=0, le=100, description="age at which persons enter the population [years]")
    max_age: float = Field(70.0, ge=1, le=120, description="age at which persons leave the population [years]")
    male_share: float = prob(0.5, "share of men")
    household_size_mean: float = Field(2.2, ge=1, le=20, description="mean household size (Statistics Netherlands: about 2.1-2.2)")
    migration_rate: float = rate(0.04, "out-migration; every leaver is replaced by a newcomer of random age")
    partner_share: float = prob(0.55, "share of persons aged 25+ living with a partner (protective: Weulen Kranenbarg et al. 2018)")
    education_until: float = Field(18.0, ge=0, le=40, description="everyone younger is in school [years]")
    higher_education_share: float = prob(0.4, "share of 18-24 year olds still in education")
    employment_rate: float = prob(0.75, "share of adults not in education who work")
    retirement_age: float = Field(67.0, ge=0, le=120, description="age at which workers stop working [years]")
    it_skill: Beta = Field(default_factory=lambda: Beta(a=2.0, b=6.0), description="IT skill (0 none, 1 expert)")
    youth_it_skill_boost: float = Field(0.3, ge=0, le=5, description="relative extra IT skill of under-25s (NCA; Bekkers): skill *= 1 + boost for the young")
    propensity: Beta = Field(default_factory=lambda: Beta(a=1.5, b=8.0), description="criminal propensity (low self-control, pro-criminal attitudes)")
    financial_need: Beta = Field(default_factory=lambda: Beta(a=2.0, b=5.0), description="financial need")
    online_activity: Beta = Field(default_factory=lambda: Beta(a=2.0, b=3.0), description="time spent online")
    youth_online_boost: float = Field(0.5, ge=0, le=5, description="relative extra online activity of under-25s")
    specialism_shares: dict[SpecialismName, Probability] = Field(
        default_factory=lambda: {"coder": 0.04, "hacker": 0.02, "hosting": 0.01, "social_engineering": 0.04, "cash_out": 0.02},
        description="share of the population with each specialism; technical ones go preferentially to the IT-skilled (assumption)",
    )

    _merge_specialisms = _merging("specialism_shares", lambda: PopulationParams.model_fields["specialism_shares"].default_factory())

    @model_validator(mode="after")
    def _consistent(self) -> PopulationParams:
        if self.max_age <= self.min_age:
            raise ValueError(f"max_age ({self.max_age}) must be larger than min_age ({self.min_age})")
        total = sum(v for k, v in self.specialism_shares.items() if k != "none")
        if total > 1:
            raise ValueError(f"specialism_shares add up to {total:.3g}; at most 1 is allowed")
        return self

    @property
    def neighbourhoods(self) -> int:
        """Number of neighbourhoods: one per `neighbourhood_size` residents, at least one."""
        return max(1, round(self.size / self.neighbourhood_size))


# --------------------------------------------------------------------------- ties
def _per_layer(values: dict[str, float]):
    return lambda: dict(values)


class TieParams(Section):
    friends_mean: float = Field(5.0, ge=0, le=500, description="initial friendships per person (homophily by age, sex, neighbourhood)")
    friend_age_sd: float = Field(3.0, gt=0, le=50, description="spread of age differences between friends [years]")
    friend_same_neighbourhood: float = prob(0.7, "share of friendships within one's neighbourhood")
    friend_same_sex: float = prob(0.7, "share of friendships with a person of the same sex")
    neighbours_mean: float = Field(3.0, ge=0, le=500, description="initial neighbourhood acquaintances per person")
    school_work_mean: float = Field(4.0, ge=0, le=500, description="initial ties to classmates or colleagues per person")
    online_contacts_mean: float = Field(1.0, ge=0, le=500, description="initial chat contacts per person, more for the online-active")
    initial_strength: dict[LayerName, Probability] = Field(
        default_factory=_per_layer({"family": 0.9, "school_work": 0.4, "friend": 0.6, "neighbourhood": 0.3, "forum": 0.2, "chat": 0.3, "co_offending": 0.5}),
        description="strength (trust) of a social tie (made at set-up, in a household or on a newcomer's arrival), per layer; no social forum ties are made, so `forum` is unused; `co_offending`: the tie a recruiter makes with a recruit, or members who offend together, at the trust a network needs to share core tasks (`recruitment.acceptance.min_core_trust`): co-offenders pick each other on trust built in the relation (Weerman 2003; von Lampe & Johansen 2004) (assumption)",
    )
    half_life_years: dict[LayerName, NonNegative] = Field(
        default_factory=_per_layer({"family": 0.0, "school_work": 0.0, "friend": 0.0, "neighbourhood": 0.0, "forum": 0.0, "chat": 0.0, "co_offending": 1.0}),
        description="time for a social tie's strength to halve, per layer; 0 = never decays: social ties are kept up by routine contact the model does not represent, so the network stays stationary; `co_offending` ties are kept up only by offending together (sim/crime/co_offending.py), so they fade: most co-offending relations are short-lived, few are repeated over years (Reiss 1988; McGloin et al. 2008) [years] (assumption)",
    )
    acquaintance_half_life_years: float = Field(0.5, ge=0, le=100, description="time for the strength of a tie made by a chance meeting to halve unless renewed, and for what meetings add to a social tie to fade back to its initial strength; 0 = never [years] (assumption)")
    meeting_gain: float = prob(0.15, "share of the gap to full strength that one meeting closes")
    new_tie_chance: float = prob(0.03, "chance that a meeting between strangers at a venue or online leaves a tie (assumption)")
    acquaintance_strength: float = prob(0.15, "strength of a tie made by a chance meeting (initial ties use initial_strength)")
    min_strength: float = prob(0.05, "ties weaker than this are forgotten")
    prune_every: int = Field(13, ge=1, le=10_000, description="steps between tie maintenance: forgotten ties are removed (until then a meeting can renew them) and newcomers since the last maintenance make their social ties")

    @field_validator("initial_strength", "half_life_years")
    @classmethod
    def _all_layers(cls, value: dict) -> dict:
        missing = [layer for layer in LAYERS if layer not in value]
        if missing:
            raise ValueError(f"needs a value for every layer; missing: {', '.join(missing)}")
        return value


# --------------------------------------------------------------------------- places
class VenueParams(Section):
    per_neighbourhood: float = Field(1.0, gt=0, le=1000, description="venues of this type per neighbourhood (fractions allowed: 0.25 = one per four)")
    visit_rate: float = rate(20.0, "visits by a person of the right age")
    age: AgeBand = Field(default_factory=lambda: AgeBand(min=12, max=70), description="ages that visit")
    contacts_per_visit: float = Field(2.0, ge=0, le=50, description="mean number of co-visitors each visitor seeks out per visit (each is also sought out by others, so takes part in about twice as many meetings); a fraction is the chance of one more")
    layer: OfflineLayerName = Field("friend", description="layer of the ties meetings here create")
    assigned: bool = Field(False, description="each person has one venue of this type (school, workplace) instead of visiting any in the neighbourhood")
    convergence: bool = Field(False, description="offender convergence setting: propensity raises visits, recruiters approach more (Felson)")
    for_status: Literal["student", "worker"] | None = Field(None, description="only persons with this status visit (assigned venues)")


def _default_venues():
    return {
        "school": VenueParams(per_neighbourhood=0.5, visit_rate=40, age=AgeBand(min=12, max=30), contacts_per_visit=3, layer="school_work", assigned=True, for_status="student"),
        "workplace": VenueParams(per_neighbourhood=3, visit_rate=40, age=AgeBand(min=16, max=70), contacts_per_visit=2, layer="school_work", assigned=True, for_status="worker"),
        "nightlife": VenueParams(per_neighbourhood=1, visit_rate=12, age=AgeBand(min=16, max=45), contacts_per_visit=2),
        "sports": VenueParams(per_neighbourhood=1, visit_rate=26, age=AgeBand(min=12, max=55), contacts_per_visit=2),
        "street": VenueParams(per_neighbourhood=1, visit_rate=26, age=AgeBand(min=12, max=25), contacts_per_visit=2, layer="neighbourhood"),
        "hangout": VenueParams(per_neighbourhood=0.2, visit_rate=4, age=AgeBand(min=14, max=40), contacts_per_visit=3, convergence=True),
    }


class OnlineSpaceParams(Section):
    kind: OnlineKind = Field(..., description="open_forum, gated_forum, market, chat or social_media")
    visit_rate: float = rate(26.0, "visits by a fully online, fully interested person")
    contacts_per_visit: float = Field(1.0, ge=0, le=50, description="mean number of users each visitor seeks out per visit (and is sought out by about as many)")
    min_skill: float = prob(0.0, "gated forums: least IT skill to be admitted")
    min_reputation: float = prob(0.0, "gated forums: least forum reputation to be admitted")
    vetting_pass: float = prob(1.0, "gated forums: chance an eligible applicant passes vetting")
    apply_rate: float = rate(2.0, "gated forums: applications by an eligible non-member, who applies only in a step in which they visit an open forum")
    infiltration: float = prob(0.0, "share of this space's users who are undercover officers or informants (baseline: none modelled)")


def _default_online_spaces():
    return {
        "open_forum_a": OnlineSpaceParams(kind="open_forum", visit_rate=20, contacts_per_visit=2),
        "open_forum_b": OnlineSpaceParams(kind="open_forum", visit_rate=10, contacts_per_visit=2),
        "gated_forum": OnlineSpaceParams(kind="gated_forum", visit_rate=30, contacts_per_visit=2, min_skill=0.45, min_reputation=0.3, vetting_pass=0.5),
        "market": OnlineSpaceParams(kind="market", visit_rate=12, contacts_per_visit=1),
        "chat_channels": OnlineSpaceParams(kind="chat", visit_rate=52, contacts_per_visit=0.3),
        "social_media": OnlineSpaceParams(kind="social_media", visit_rate=150, contacts_per_visit=0.0),
    }


class ForumUseParams(Section):
    """Who uses forums and markets: a self-selected minority that churns (Pastrana et al. 2018;
    Hughes & Hutchings 2023). Only forum users visit open and gated forums and markets."""

    join_rate: float = rate(0.06, "hazard of becoming a forum user for a fully online, fully IT-skilled adult with no crime propensity and no tie to a forum user; scaled by online activity x IT skill x the factors below (assumption, set so that a few per cent of residents are users)")
    propensity_weight: float = Field(2.0, ge=0, le=100, description="the join hazard scales with 1 + weight x criminal propensity (assumption)")
    youth_factor: float = Field(3.0, ge=0, le=100, description="multiplies the join hazard under age 25: the young are drawn to forums (NCA; Bekkers) (assumption on size)")
    peer_factor: float = Field(2.0, ge=0, le=100, description="multiplies the join hazard of a person with a tie to a forum user: interest is learned with peers (assumption on size)")
    member_factor: float = Field(10.0, ge=0, le=1000, description="multiplies the join hazard of a network member: members go online to buy tools and find co-offenders, so serious actors are among the users (Leukfeldt, Kleemans & Stol 2017) (assumption on size)")
    quit_rate: float = rate(0.7, "hazard of a forum user stopping forum use: mean tenure 1/rate = 1.4 years (high churn: Pastrana et al. 2018; Hughes & Hutchings 2023) (assumption on size)")


class PlacesParams(Section):
    venues: dict[str, VenueParams] = Field(default_factory=_default_venues, description="offline venue types, by name")
    online_spaces: dict[str, OnlineSpaceParams] = Field(default_factory=_default_online_spaces, description="online spaces, by name")
    forum_use: ForumUseParams = Field(default_factory=ForumUseParams, description="who uses forums and markets (join and quit hazards)")
    reputation_gain: float = prob(0.02, "forum reputation gained in a step with a forum or market visit")
    reputation_half_life_years: float = Field(1.0, gt=0, description="time for unused reputation to halve [years]")
    convergence_propensity_weight: float = Field(4.0, ge=0, description="visits to convergence settings scale with 1 + weight * propensity")

    _merge_venues = _merging("venues", _default_venues)
    _merge_spaces = _merging("online_spaces", _default_online_spaces)


# --------------------------------------------------------------------------- criminal networks
class RoleNeeds(Section):
    core: int = Field(2, ge=1, le=100, description="core members (organisers) the business needs")
    technical_enabler: int = Field(1, ge=0, le=100, description="technical enablers (coders, hackers, hosting)")
    recruiter: int = Field(1, ge=0, le=100, description="recruiters")
    money_mule: int = Field(3, ge=0, le=1000, description="money mules and cash-out")


class BusinessModelParams(Section):
    roles: RoleNeeds = Field(default_factory=RoleNeeds, description="role mix needed for full capability")
    enabler_specialisms: list[SpecialismName] = Field(default_factory=lambda: ["coder", "hacker"], description="specialisms that fit the technical-enabler role")
    offence_rate: float = rate(20.0, "offences (campaigns, attacks) at full capability")
    victims_per_offence: float = Field(3.0, gt=0, le=10_000, description="mean victims per offence in an uncrowded market (Poisson; the market's yield scales it, see networks.market_half_saturation)")
    loss_median: float = Field(1500.0, gt=0, description="median loss per victim [euro] (NSCR/WODC: hundreds to 200,000+)")
    loss_sigma: float = Field(1.3, ge=0, le=5, description="log-scale spread of losses (lognormal: heavy-tailed)")
    loss_max: float = Field(250_000.0, gt=0, description="largest loss per victim [euro]")


def _default_business_models():
    return {
        "phishing": BusinessModelParams(roles=RoleNeeds(core=2, technical_enabler=1, recruiter=1, money_mule=5), enabler_specialisms=["coder", "hosting"], offence_rate=24, victims_per_offence=4, loss_median=1500, loss_sigma=1.3),
        "banking_malware": BusinessModelParams(roles=RoleNeeds(core=2, technical_enabler=2, recruiter=1, money_mule=4), enabler_specialisms=["coder", "hacker"], offence_rate=12, victims_per_offence=6, loss_median=3000, loss_sigma=1.5),
        "ransomware_affiliate": BusinessModelParams(roles=RoleNeeds(core=2, technical_enabler=2, recruiter=0, money_mule=1), enabler_specialisms=["hacker", "coder"], offence_rate=4, victims_per_offence=1, loss_median=40_000, loss_sigma=1.2),
        "carding": BusinessModelParams(roles=RoleNeeds(core=2, technical_enabler=1, recruiter=1, money_mule=3), enabler_specialisms=["hacker", "hosting"], offence_rate=20, victims_per_offence=10, loss_median=400, loss_sigma=1.0),
        "ddos_for_hire": BusinessModelParams(roles=RoleNeeds(core=1, technical_enabler=1, recruiter=0, money_mule=0), enabler_specialisms=["coder", "hosting"], offence_rate=40, victims_per_offence=1, loss_median=500, loss_sigma=1.0),
    }


# keys of `networks` that older scenarios may still set: each gets one line naming its replacement
RETIRED_NETWORK_KEYS = {
    "initial": "'initial' was renamed 'initial_per_10k' and now counts networks per 10,000 persons "
               "(the counts scale with population.size): write networks.initial_per_10k",
    "online_founding_share": "'online_founding_share' was replaced by 'founding_rate_forum', a founding rate of forum users "
                             "whose networks are born online (per person per year, default 0.03; docs/ODD.md 7.11): "
                             "write networks.founding_rate_forum",
}


class NetworkParams(Section):
    business_models: dict[str, BusinessModelParams] = Field(default_factory=_default_business_models, description="business models and their role mixes")
    initial_per_10k: dict[str, Annotated[float, Field(ge=0, le=10_000)]] = Field(
        default_factory=lambda: {"phishing": 4.0, "banking_malware": 2.0, "ransomware_affiliate": 1.0, "carding": 2.0, "ddos_for_hire": 1.0},
        description="networks seeded at the start per 10,000 persons, per business model (the total is rounded to whole networks and shared out by largest remainders, so a small town gets its share; each starts as its founder and recruits the rest); their shares are also the business models' shares among new networks",
    )
    founder_min_propensity: float = prob(0.4, "least propensity of a person who founds a network")
    founder_min_age: float = Field(16.0, ge=0, le=100, description="youngest founder [years]")
    founder_max_age: float = Field(55.0, ge=0, le=120, description="oldest founder [years] (assumption)")
    founding_rate_experienced: float = rate(0.1, "foundings by a former member with experience (per person), before the market's yield (`market_half_saturation`) scales it (assumption)")
    founding_rate_novice: float = rate(0.008, "foundings by a motivated person without experience (per person), before the market's yield scales it")
    founding_rate_forum: float = rate(0.03, "extra foundings by a motivated forum user, whose core forms among forum users (an online-born network): forums are where offenders meet partners (Leukfeldt, Kleemans & Stol 2017 ABS); a few networks originate on forums (Leukfeldt et al. 2017 CLSC); before the market's yield scales it (assumption on the size)")
    online_cofounders: int = Field(1, ge=0, le=100, description="core members an online founder recruits among forum users at founding: online-born networks have few core members (Leukfeldt et al. 2017 CLSC) (assumption)")
    online_born_dissolution_rate: float = rate(0.4, "extra dissolution hazard of an online-born network: partners who met online trust each other less (assumption)")
    market_half_saturation: float = Field(150.0, gt=0, le=1e9, description="offences per year per 10,000 persons at which a network's yield (victims per offence) halves: victims and cash-out opportunities are finite; founding rates scale with the same yield (assumption)")
    market_exit_rate: float = rate(0.5, "dissolution hazard of a network in a market paying nothing; it scales with 1 - yield (assumption)")
    min_experience_years: float = Field(0.5, ge=0, description="membership time that makes a person experienced [years]")
    growth_slack: float = Field(0.5, ge=0, le=10, description="networks keep recruiting until each role holds (1 + slack) x its need")
    growth_rate_multiplier: float = prob(0.3, "recruitment intensity of a network whose needs are met but which has slack left")
    regroup_rate: float = rate(6.0, "promotion of a surviving member to core when a network has lost its core")
    offence_crew: int = Field(2, ge=0, le=50, description="members who commit an offence with the core member who coordinates it; each works with the coordinator and their co-offending tie is made or strengthened (co-offending groups are mostly of two or three: Reiss 1988; Carrington 2002) (assumption on the exact size)")
    rewire_prob: float = prob(0.5, "chance that a member who worked with (had a co-offending tie to) an arrested member ties up with another who did: networks rewire around a removed node (Duijn, Kashirin & Sloot 2014) (assumption on the size)")
    lost_contact_rate: float = rate(4.0, "departures of a member whom no core member of their network can reach through ties (any layer) among fellow members: a money mule whose only contact was arrested, a cell behind an arrested broker (assumption)")
    dissolve_capability: float = prob(0.15, "networks below this capability for `dissolve_after_years` dissolve")
    dissolve_after_years: float = Field(0.5, ge=0, description="time a network survives with too little capability [years]")

    _merge_models = _merging("business_models", _default_business_models)
    _merge_initial = _merging("initial_per_10k", lambda: NetworkParams.model_fields["initial_per_10k"].default_factory())

    @model_validator(mode="before")
    @classmethod
    def _retired_keys(cls, data):
        for key, message in RETIRED_NETWORK_KEYS.items():
            if isinstance(data, dict) and key in data:
                raise ValueError(message)
        return data

    @model_validator(mode="after")
    def _known_models(self) -> NetworkParams:
        unknown = sorted(set(self.initial_per_10k) - set(self.business_models))
        if unknown:
            raise ValueError(f"initial names unknown business model(s) {unknown}; defined: {sorted(self.business_models)}")
        return self


# --------------------------------------------------------------------------- recruitment
class AcceptanceParams(Section):
    propensity_weight: float = prob(0.7, "weight of propensity (vs financial need) in the motivation of non-mule roles")
    mule_need_weight: float = prob(0.6, "weight of financial need (vs propensity) in the motivation of money mules")
    experience_bonus: float = prob(0.3, "extra motivation of a former member who did not desist (left through arrest, dissolution or exit)")
    partner_factor: float = Field(0.7, ge=0, le=1, description="motivation multiplier for persons living with a partner (Weulen Kranenbarg et al. 2018)")
    min_core_trust: float = prob(0.5, "least trust a network needs in someone to take them into its core: trust comes from ties (Kleemans & de Poot 2008)")
    youth_skill_factor: float = Field(1.3, ge=0, le=5, description="motivation multiplier for under-25s asked to take a technical role (assumption)")


def _first_sentence(rule) -> str:
    import sys

    doc = " ".join((sys.modules[rule.__module__].__doc__ or rule.__module__).split())
    return doc.split(". ")[0].rstrip(".") + "."


def _rules_model():
    fields = {name: (rule.Params, Field(default_factory=rule.Params, description=_first_sentence(rule))) for name, rule in RULES.items()}
    return create_model("RecruitmentRules", __base__=Section, **fields)


RecruitmentRules = _rules_model()
RecruitmentRules.__doc__ = "Recruitment rules by name; each can be switched off with `enabled: false`."


class RecruitmentParams(Section):
    rules: RecruitmentRules = Field(default_factory=RecruitmentRules, description="recruitment channels (registry: sim/recruitment/)")
    acceptance: AcceptanceParams = Field(default_factory=AcceptanceParams, description="how candidates decide")
    min_age: float = Field(14.0, ge=0, le=100, description="youngest person approached [years]")


# --------------------------------------------------------------------------- enforcement, desistance
class EnforcementParams(Section):
    detection_base: float = rate(0.05, "detection of a network, before size and activity")
    detection_per_member: float = rate(0.01, "added detection per member")
    detection_per_report: float = rate(0.01, "added detection per victim who reported in the last year: the police learn of networks through reports, not offences (assumption)")
    report_share: float = prob(0.15, "share of victims who report to the police: online fraud is reported far less than other crime (CSEW: about 15% of fraud incidents reach the police or Action Fraud; van de Weijer et al. 2019)")
    investigations_per_10k: float = Field(1.0, ge=0, le=1e6, description="network investigations the police can open per year per 10,000 persons: detected networks compete for them, each being investigated with chance capacity / expected leads when leads exceed capacity (assumption)")
    arrest_share: float = prob(0.6, "share of members arrested when a network is detected")
    core_arrest_share: float = prob(0.8, "share of core members arrested when a network is detected")
    mule_detection: float = rate(0.25, "banks flag and police arrest an individual money mule")
    sentence_years_mean: float = Field(1.0, ge=0, le=50, description="mean time away after an arrest [years] (exponential)")


class DesistanceParams(Section):
    base_rate: float = rate(0.1, "desistance of a 25-year-old member")
    age_slope: float = Field(0.04, ge=0, le=1, description="desistance rises by this log-factor per year of age")
    partner_multiplier: float = Field(1.5, ge=0, description="desistance multiplier for members living with a partner")
    employment_multiplier: float = Field(1.0, ge=0, description="desistance multiplier for members with a job: 1, because unlike for traditional crime employment is not protective for cyber-offending (Weulen Kranenbarg et al. 2018)")
    after_arrest_multiplier: float = Field(3.0, ge=0, description="desistance multiplier in the year after release")
    online_born_multiplier: float = Field(2.0, ge=0, le=100, description="desistance multiplier for members of online-born networks: less mutual trust, more exits (assumption)")
    propensity_factor: float = prob(0.5, "a desister's criminal propensity is multiplied by this: desistance is a change, not a pause (assumption)")


class OriginParams(Section):
    online_growth_min_share: float = prob(0.5, "a network with an offline core counts as grown online when more than this share of its non-core recruits came through online channels, one with an online core as grown offline when more than 1 - this share came offline (0.5: the predominant channel; Leukfeldt, Kleemans & Stol 2017)")


class OutputParams(Section):
    snapshot_every: int = Field(4, ge=1, le=100_000, description="steps between rows of networks.parquet")
    network_graphs: bool = Field(False, description="also write the criminal networks (members and the ties among them, by layer) as one GraphML file per snapshot, in graphs/ (`recruitsim run --export-networks`)")


# --------------------------------------------------------------------------- interventions
InterventionSpec = Annotated[Union[tuple(cls.Params for cls in INTERVENTIONS.values())], Field(discriminator="type")]  # noqa: UP007


# --------------------------------------------------------------------------- the scenario
class Scenario(Section):
    name: str = Field("scenario", min_length=1, description="short name, used in output paths")
    description: str = Field("", description="what the scenario represents")
    extends: str | None = Field(None, description="a scenario file this one overrides (path relative to this file)")
    seed: int = Field(1, ge=0, description="seed of every random draw (numpy SeedSequence)")
    steps: int = Field(520, ge=1, le=1_000_000, description="number of steps to run")
    step: StepName = Field("week", description="length of one step: day, week or month")
    burn_in_years: float = Field(10.0, ge=0, le=1000, description="time the model runs before the outputs' step 1, so that ties and networks have settled into their stationary state; outputs (timeseries, networks, events) and intervention times (`at: 2` = two years after the burn-in) start after it [years] (assumption: see docs/ODD.md, Initialization)")
    population: PopulationParams = Field(default_factory=PopulationParams)
    ties: TieParams = Field(default_factory=TieParams)
    places: PlacesParams = Field(default_factory=PlacesParams)
    networks: NetworkParams = Field(default_factory=NetworkParams)
    recruitment: RecruitmentParams = Field(default_factory=RecruitmentParams)
    enforcement: EnforcementParams = Field(default_factory=EnforcementParams)
    desistance: DesistanceParams = Field(default_factory=DesistanceParams)
    origin: OriginParams = Field(default_factory=OriginParams)
    outputs: OutputParams = Field(default_factory=OutputParams)
    interventions: list[InterventionSpec] = Field(default_factory=list, description="interventions, each with a `type` (registry: sim/interventions/) and timing in years (`at`, or `from`/`until`, optionally `every`)")

    @classmethod
    def from_resolved(cls, dump: dict) -> Scenario:
        """The scenario whose `model_dump()` (or `resolved()`) `dump` is, exactly: its mappings of
        named entries are taken as they are, not merged into the defaults again (an entry removed
        with `name: null` stays removed), and every key must be present."""
        return cls.model_validate(dump, context=dict(RESOLVED))

    def resolved(self) -> dict:
        """This scenario as plain JSON data, for `from_resolved`: what manifests record and what
        travels to worker processes."""
        return self.model_dump(mode="json")

    @model_validator(mode="after")
    def _targets_exist(self) -> Scenario:
        for i, intervention in enumerate(self.interventions):
            problem = unknown_target(intervention, list(self.places.online_spaces))
            if problem:
                raise ValueError(f"interventions[{i}].target: {problem}")
        return self

    @model_validator(mode="after")
    def _intervention_timing(self) -> Scenario:
        # The checks the model makes when it is built (distinct labels, periods and repeats of at
        # least one step), made here too so that `validate` refuses what `run` would.
        from sim.errors import ScenarioError
        from sim.interventions.schedule import check_interventions
        from sim.timing import Clock

        try:
            check_interventions(self.interventions, Clock(self.step))
        except ScenarioError as exc:
            raise ValueError(str(exc)) from None
        return self


__all__ = ["Scenario", "OFFLINE_LAYERS", "SPECIALISMS"]


def unknown_target(intervention, spaces: list[str]) -> str | None:
    """What is wrong with an intervention's target online space, if anything (the scenario's check,
    also made when an intervention is added to a running model)."""
    target = getattr(intervention, "target", None)
    if target is None or target in spaces:
        return None
    return f"unknown online space {target!r} (allowed: {', '.join(spaces)})"
