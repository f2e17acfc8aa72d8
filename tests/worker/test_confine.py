"""Tests of lib.worker._confine."""

from __future__ import annotations

import resource

from lib.worker._confine import address_space_cap


def test_the_address_space_cap_stays_within_an_inherited_hard_limit():
    gib = 1 << 30
    assert address_space_cap(2 * gib, 4 * gib, resource.RLIM_INFINITY) == 6 * gib
    assert address_space_cap(2 * gib, 4 * gib, 5 * gib) == 5 * gib  # under `ulimit -v`
    assert address_space_cap(2 * gib, 4 * gib, 8 * gib) == 6 * gib
