"""The model's fixed vocabularies: tie layers, specialisms, roles, channels, origin types.

Each vocabulary is a tuple of names; the position of a name is its integer code in the numpy
state columns and in the outputs' categorical columns. Append, never reorder: codes are part
of the output contract.
"""

from __future__ import annotations

from typing import Literal, get_args

# --- tie layers -----------------------------------------------------------------------------
LayerName = Literal["family", "school_work", "friend", "neighbourhood", "forum", "chat", "co_offending"]
LAYERS: tuple[str, ...] = get_args(LayerName)
OFFLINE_LAYERS: tuple[str, ...] = ("family", "school_work", "friend", "neighbourhood")
ONLINE_LAYERS: tuple[str, ...] = ("forum", "chat")
# ties between members made by recruiting and offending together (sim/crime/co_offending.py)
CRIME_LAYERS: tuple[str, ...] = ("co_offending",)
LAYER = {name: code for code, name in enumerate(LAYERS)}

# --- IT specialisms -------------------------------------------------------------------------
SpecialismName = Literal["none", "coder", "hacker", "hosting", "social_engineering", "cash_out"]
SPECIALISMS: tuple[str, ...] = get_args(SpecialismName)
SPECIALISM = {name: code for code, name in enumerate(SPECIALISMS)}

# --- roles in a criminal network (Bekkers, Leukfeldt & Kleemans 2024; Lusthaus et al. 2023) ---
RoleName = Literal["core", "technical_enabler", "recruiter", "money_mule"]
ROLES: tuple[str, ...] = get_args(RoleName)
ROLE = {name: code for code, name in enumerate(ROLES)}
NO_NETWORK = -1

# --- recruitment channels and their medium --------------------------------------------------
ChannelName = Literal["founder", "offline_ties", "offline_venues", "forums", "adverts", "self_selection"]
CHANNELS: tuple[str, ...] = get_args(ChannelName)
CHANNEL = {name: code for code, name in enumerate(CHANNELS)}
MEDIA: tuple[str, ...] = ("offline", "online")
MEDIUM = {name: code for code, name in enumerate(MEDIA)}

# --- what became of a recruitment attempt (the events table's `outcome`) ---------------------
OutcomeName = Literal["accepted", "refused", "role_full", "taken", "network_gone"]
OUTCOMES: tuple[str, ...] = get_args(OutcomeName)
OUTCOME = {name: code for code, name in enumerate(OUTCOMES)}

# --- network origin typology (docs/evidence.md section 1; Leukfeldt, Kleemans & Stol 2017) --------
OriginName = Literal["offline", "offline_core_online_growth", "online", "online_core_offline_growth"]
ORIGINS: tuple[str, ...] = get_args(OriginName)

# --- places ---------------------------------------------------------------------------------
OnlineKind = Literal["open_forum", "gated_forum", "market", "chat", "social_media"]
ONLINE_KINDS: tuple[str, ...] = get_args(OnlineKind)
OfflineLayerName = Literal["school_work", "friend", "neighbourhood"]

# --- step lengths ---------------------------------------------------------------------------
StepName = Literal["day", "week", "month"]
STEPS_PER_YEAR = {"day": 365.0, "week": 52.0, "month": 12.0}

# --- how a code reads in figures, tables and the dashboard ------------------------------------
READABLE = {
    "offline_core_online_growth": "offline core, online growth",
    "online_core_offline_growth": "online core, offline growth",
    "money_mule": "money mule",
    "technical_enabler": "technical enabler",
    "core": "core member",
    "self_selection": "self-selection",
}


def readable(code: str, plural: bool = False) -> str:
    """A code in words ("money_mule" -> "money mule"; plural: "money mules", for roles only)."""
    text = READABLE.get(code, code.replace("_", " "))
    return text + "s" if plural and code in ROLES else text

