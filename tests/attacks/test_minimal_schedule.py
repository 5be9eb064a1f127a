"""The search over c, driven by a scripted solver: every request and the result
against the schedule written out by hand (paper-notes: c starts at c_init, is
scaled by c_factor until one success and one failure bracket it, then bisected
geometrically; each solve starts from the best perturbation found so far).
"""

import math

import numpy as np
import pytest

from advref.attacks.minimal_search import DEFAULTS, search_over_c

SETTINGS = {**DEFAULTS, "c_init": 1.0, "c_factor": 10.0, "max_scale": 12, "bisect_steps": 2}


def drive(settings, respond):
    """Run the search, answering each (c, r0) with respond(c); return the requests
    and the result."""
    search = search_over_c(np.zeros(2, np.float32), 1, settings)
    requests, answer = [], None
    try:
        while True:
            c, r0 = search.send(answer)
            requests.append((c, r0.copy()))
            answer = respond(c)
    except StopIteration as stop:
        return requests, stop.value


def test_scaling_down_to_a_success_then_bisecting():
    """Success iff c <= .05, with |r| = .01 / c: fail at 1 and .1, succeed at .01,
    then bisect: sqrt(.001) succeeds, sqrt(.0001 * 10^.5) fails."""
    def respond(c):
        ok = c <= 0.05
        return np.array([0.01 / c, 0.0]), (1 if ok else 0), 7

    requests, result = drive(SETTINGS, respond)
    mid1 = math.sqrt(0.01 * 0.1)
    mid2 = math.sqrt(mid1 * 0.1)
    assert [c for c, _ in requests] == pytest.approx([1.0, 0.1, 0.01, mid1, mid2], rel=1e-15)
    np.testing.assert_array_equal(requests[2][1], [0.0, 0.0])      # no success yet
    np.testing.assert_array_equal(requests[3][1], [1.0, 0.0])      # warm start from c = .01
    np.testing.assert_allclose(requests[4][1], [0.01 / mid1, 0.0], rtol=1e-15)
    assert result.success and result.iterations == 35
    assert result.l2 == pytest.approx(0.01 / mid1, rel=1e-6)
    assert result.c == pytest.approx(mid1, rel=1e-15)


def test_scaling_up_starts_each_solve_from_the_best_and_keeps_the_first_of_equal_sizes():
    """Success iff c <= .5, every success of size .5: successes at .01 and .1 (each
    solve warm-started), failure at 1, then bisection; equal sizes keep c = .01."""
    settings = {**SETTINGS, "c_init": 0.01, "bisect_steps": 1}

    def respond(c):
        ok = c <= 0.5
        return np.array([0.5, 0.0]) if ok else np.array([0.1, 0.1]), (1 if ok else 3), 2

    requests, result = drive(settings, respond)
    assert [c for c, _ in requests] == pytest.approx([0.01, 0.1, 1.0, math.sqrt(0.1)],
                                                     rel=1e-15)
    for _, r0 in requests[1:]:
        np.testing.assert_array_equal(r0, [0.5, 0.0])
    assert result.success is True and result.c == 0.01 and result.iterations == 8
    assert result.l2 == 0.5 and result.linf == 0.5 and type(result.c) is float
    assert (result.target, result.reached) == (1, 1) and result.settings is settings


def test_a_search_that_never_succeeds_reports_its_last_c_and_every_iteration():
    settings = {**SETTINGS, "max_scale": 3}
    requests, result = drive(settings, lambda c: (np.array([0.2, 0.0]), 0, 5))
    assert [c for c, _ in requests] == pytest.approx([1.0, 0.1, 0.01, 0.001, 0.001],
                                                     rel=1e-15)
    assert result.success is False and result.iterations == 20
    assert result.c == pytest.approx(0.001, rel=1e-15) and type(result.c) is float
    assert math.isnan(result.l2) and math.isnan(result.linf)
    assert (result.target, result.reached) == (1, 0) and result.settings is settings
    np.testing.assert_array_equal(result.x_adv, [0.2, 0.0])     # the last solve's point
