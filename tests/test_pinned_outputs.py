"""Refactorings leave the outputs byte for byte as they were: small runs of bundled scenarios
match the digests pinned in tests/data/pinned_outputs.json (see tests/pinned_outputs.py for
how to update them when behaviour changes on purpose), with the compiled kernels and with their
numpy twins alike (sim/compiled.py)."""

from __future__ import annotations

import contextlib
import json

import pytest
from pinned_outputs import PINNED, SCENARIOS, digests

from sim import compiled

KERNELS = {"compiled": contextlib.nullcontext, "numpy": compiled.numpy_twins}


@pytest.mark.parametrize("kernels", list(KERNELS))
@pytest.mark.parametrize("name", SCENARIOS)
def test_outputs_match_their_pinned_digests(name, kernels):
    pinned = json.loads(PINNED.read_text())[name]
    with KERNELS[kernels]():
        assert digests(name) == pinned, (
            f"{name} ({kernels} kernels): outputs changed. If on purpose, run `python tests/pinned_outputs.py` and commit the new digests")
