"""`reuse_freed_memory`: a process that made it keeps the memory of freed arrays for the next ones."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

_FAULTS = """
import resource, sys
import numpy as np
from sim.resources import reuse_freed_memory
if sys.argv[1] == "reuse":
    assert reuse_freed_memory()
def step():  # arrays of a step at a million persons: several at once, of 1 to 24 MB, then freed
    arrays = [np.ones(n) for n in (125_000, 500_000, 2_000_000, 3_000_000, 1_000_000)]
    return sum(len(a) for a in arrays)
step()  # the first arrays of these sizes, and the memory that freeing them leaves
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    step()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _page_faults(mode: str) -> int:
    out = subprocess.run([sys.executable, "-c", _FAULTS, mode], capture_output=True, text=True, check=True)
    return int(out.stdout)


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_freed_arrays_memory_is_reused_without_faulting_fresh_pages_in():
    # 10 steps of 53 MB are ~130,000 pages; glibc's own threshold grows with the blocks freed, so
    # it may reuse some of them too: the test asks for 10x fewer faults, not for none
    default, reusing = _page_faults("default"), _page_faults("reuse")
    assert reusing * 10 < default
