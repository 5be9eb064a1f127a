"""Dropout masks from raw bits: exact thresholds, the right frequencies, seeded."""

import numpy as np
import pytest

from models.dropout import bernoulli_keep, bits_for, dropout_mask, uniform_draws


@pytest.mark.parametrize("p, bits, threshold", [
    (0.5, 1, 1), (1.0, 1, 2), (0.0, 1, 0), (0.25, 8, 64), (0.75, 8, 192),
    (2**-12, 16, 16), (0.8, 32, 3435973837), (0.1, 32, 429496730)])
def test_fewest_bits_that_hold_p(p, bits, threshold):
    assert bits_for(p) == (bits, threshold)
    assert abs(threshold / 2**bits - p) <= 2.0**-(bits + 1)


@pytest.mark.parametrize("bits", [1, 8, 16, 32])
def test_draws_are_uniform_over_their_range(bits):
    gen = np.random.default_rng(1)
    draws = uniform_draws(gen, 200_001, bits)
    assert draws.shape == (200_001,)
    top = 2**bits
    # mean (top - 1) / 2, sd top / sqrt(12): 6 standard errors of slack.
    mean = draws.astype(np.float64).mean()
    assert abs(mean - (top - 1) / 2) < 6 * top / np.sqrt(12 * 200_001)
    # every bit position is set half the time
    as_int = draws.astype(np.uint64)
    for b in range(bits):
        share = ((as_int >> np.uint64(b)) & np.uint64(1)).mean()
        assert abs(share - 0.5) < 6 * 0.5 / np.sqrt(200_001)


@pytest.mark.parametrize("p", [0.5, 0.8, 0.75, 0.1, 0.999])
def test_keep_frequency_is_p(p):
    keep = bernoulli_keep(np.random.default_rng(2), (1000, 800), p)
    assert keep.dtype == bool and keep.shape == (1000, 800)
    se = np.sqrt(p * (1 - p) / keep.size)
    assert abs(keep.mean() - p) < 6 * se


def test_edge_probabilities_and_mask_values():
    gen = np.random.default_rng(3)
    assert bernoulli_keep(gen, (3, 4), 1.0).all()
    assert not bernoulli_keep(gen, (3, 4), 0.0).any()
    mask = dropout_mask(gen, (50, 40), 0.5, 2.0, np.float32)
    assert mask.dtype == np.float32
    assert set(np.unique(mask)) == {0.0, 2.0}


def test_a_seed_fixes_the_mask_and_successive_masks_differ():
    a = dropout_mask(np.random.default_rng(9), (20, 30), 0.8, 1.0, np.float64)
    b = dropout_mask(np.random.default_rng(9), (20, 30), 0.8, 1.0, np.float64)
    np.testing.assert_array_equal(a, b)
    gen = np.random.default_rng(9)
    first, second = (dropout_mask(gen, (20, 30), 0.8, 1.0, np.float64) for _ in range(2))
    assert not np.array_equal(first, second)
