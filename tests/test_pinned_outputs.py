"""Refactorings leave the outputs byte for byte as they were: small runs of bundled scenarios
match the digests pinned in tests/data/pinned_outputs.json (see tests/pinned_outputs.py for
how to update them when behaviour changes on purpose)."""

from __future__ import annotations

import json

import pytest
from pinned_outputs import PINNED, SCENARIOS, digests


@pytest.mark.parametrize("name", SCENARIOS)
def test_outputs_match_their_pinned_digests(name):
    pinned = json.loads(PINNED.read_text())[name]
    assert digests(name) == pinned, (
        f"{name}: outputs changed. If on purpose, run `python tests/pinned_outputs.py` and commit the new digests")
