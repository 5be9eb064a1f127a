"""Dropout masks from raw bits: exact thresholds, the right frequencies, seeded."""

import numpy as np
import pytest

from advref.models import MaxoutMLP
from advref.models.dropout import bernoulli_keep, random_bits


class FixedBits:
    """A stand-in generator whose raw 64-bit words are given in advance."""

    def __init__(self, *chunks):
        self.chunks = [np.asarray(c, np.uint64) for c in chunks]
        self.bit_generator = self

    def random_raw(self, n):
        chunk = self.chunks.pop(0)
        assert len(chunk) == n
        return chunk


def bytes_as_words(values):
    return np.asarray(values, np.uint8).view(np.uint64)


@pytest.mark.parametrize("edge_word, kept", [(0, 129), (0x80, 128)])
def test_each_byte_value_is_kept_dropped_or_refined_exactly(edge_word, kept):
    """p = 128.5 / 256: bytes below 128 keep, above drop, 128 draws Bernoulli(.5), which
    is one bit (the first bit of the next word, 0x80 -> 1): 0 keeps (0 < 1)."""
    gen = FixedBits(bytes_as_words(np.arange(256)), [edge_word])
    keep = bernoulli_keep(gen, (16, 16), 128.5 / 256)
    flat = keep.ravel()
    assert flat[:128].all() and not flat[129:].any()
    assert flat[128] == (edge_word == 0) and flat.sum() == kept


@pytest.mark.parametrize("bits", [1, 8])
def test_bits_are_uniform(bits):
    draws = random_bits(np.random.default_rng(1), 200_001, bits)
    assert draws.shape == (200_001,) and draws.max() < 2**bits
    # every bit position is set half the time (6 standard errors of slack)
    for b in range(bits):
        share = ((draws >> b) & 1).mean()
        assert abs(share - 0.5) < 6 * 0.5 / np.sqrt(200_001)


@pytest.mark.parametrize("p", [0.5, 0.8, 0.75, 0.1, 0.999, 0.003])
def test_keep_frequency_is_p(p):
    keep = bernoulli_keep(np.random.default_rng(2), (1000, 800), p)
    assert keep.dtype == bool and keep.shape == (1000, 800)
    se = np.sqrt(p * (1 - p) / keep.size)
    assert abs(keep.mean() - p) < 6 * se


def test_edge_probabilities():
    gen = np.random.default_rng(3)
    assert bernoulli_keep(gen, (3, 4), 1.0).all()
    assert not bernoulli_keep(gen, (3, 4), 0.0).any()


def test_a_seed_fixes_the_mask_and_successive_masks_differ():
    a = bernoulli_keep(np.random.default_rng(9), (20, 30), 0.8)
    b = bernoulli_keep(np.random.default_rng(9), (20, 30), 0.8)
    np.testing.assert_array_equal(a, b)
    gen = np.random.default_rng(9)
    first, second = (bernoulli_keep(gen, (20, 30), 0.8) for _ in range(2))
    assert not np.array_equal(first, second)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_layer_inputs_are_a_times_keep_times_scale(dtype):
    """The cached layer inputs are exactly a * keep * scale: x or 0 at layer 0 (scale 1),
    2 h or 0 at layer 1 (scale 2), in the model's dtype."""
    model = MaxoutMLP(12, 3, units=(8,), pieces=2, rng=0, dtype=dtype)
    x = np.random.default_rng(1).random((40, 12)).astype(dtype)
    _, cache = model.forward(x, train=True, rng=5)
    (u0, keep0, (pieces, h)), (u1, keep1, _) = cache
    assert u0.dtype == u1.dtype == dtype
    np.testing.assert_array_equal(u0, np.where(keep0, x, 0))
    np.testing.assert_array_equal(u1, np.where(keep1, 2 * h, 0))
    assert 0 < keep0.mean() < 1 and 0 < keep1.mean() < 1
