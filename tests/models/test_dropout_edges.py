"""Dropout masks against the rule written in models/dropout.py's docstring, and the
layers that must not draw: p = 1 keeps everything without touching the generator.

The oracle reads the generator's raw 64-bit words itself and applies the rule
"d < w keep; d = w go on with the fraction f; d > w drop" level by level.
"""

import math

import numpy as np
import pytest

from advref.models import MaxoutMLP
from advref.models.dropout import bernoulli_keep


def keep_by_hand(gen, size, p):
    bits = 1 if (2 * p).is_integer() else 8
    words = gen.bit_generator.random_raw(math.ceil(size * bits / 64))
    raw = words.view(np.uint8)
    draws = np.unpackbits(raw, count=size) if bits == 1 else raw[:size]
    whole = math.floor(p * 2**bits)
    fraction = p * 2**bits - whole
    keep = draws < whole
    edge = np.flatnonzero(draws == whole)
    if fraction > 0 and edge.size:
        keep[edge] = keep_by_hand(gen, edge.size, fraction)
    return keep


@pytest.mark.parametrize("p", [0.5, 0.8, 1 / 3, 0.25, 0.75, 0.001])
def test_masks_follow_the_documented_rule(p):
    got = bernoulli_keep(np.random.default_rng(5), (37, 11), p)
    assert got.dtype == bool and got.shape == (37, 11)
    np.testing.assert_array_equal(got.ravel(), keep_by_hand(np.random.default_rng(5), 37 * 11,
                                                            p))


def test_p_one_keeps_everything_and_draws_nothing():
    gen = np.random.default_rng(3)
    before = gen.bit_generator.state
    keep = bernoulli_keep(gen, (4, 5), 1.0)
    assert keep.dtype == bool and keep.all() and keep.shape == (4, 5)
    assert gen.bit_generator.state == before


def test_a_scaled_layer_that_keeps_everything_still_scales():
    """include p = 1 with scale 2 on the input: training-mode scores are the
    evaluation-mode scores of 2x."""
    m = MaxoutMLP(4, 3, units=(5,), pieces=2, include_probs=(1.0, 1.0), scales=(2.0, 1.0),
                  irange=0.5, rng=1)
    x = np.random.default_rng(0).random((3, 4))
    train, _ = m.forward(x, train=True, rng=np.random.default_rng(9))
    np.testing.assert_array_equal(train, m.forward(2 * x)[0])
