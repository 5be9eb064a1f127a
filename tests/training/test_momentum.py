"""The blocked momentum update and the max-norm rescaling against their plain forms."""

import numpy as np
import pytest

from advref.training.max_norm import FEW_COLUMNS, limit_column_norms
from advref.training.momentum import momentum_update, momentum_update_reference


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(784, 1200), (1200,), (37, 5, 3), (1, 10)])
@pytest.mark.parametrize("block_bytes", [1, 1000, 128 * 1024])
def test_blocked_update_is_bit_identical_to_the_reference(dtype, shape, block_bytes):
    gen = np.random.default_rng(0)
    p, v, g = (gen.standard_normal(shape).astype(dtype) for _ in range(3))
    p_ref, v_ref, g_before = p.copy(), v.copy(), g.copy()
    for mu, step in [(0.5, 0.1), (0.7, 1e-3), (0.0, 3.0)]:
        momentum_update_reference(p_ref, v_ref, g, mu, step)
        momentum_update(p, v, g, mu, step, block_bytes)
        assert np.array_equal(p, p_ref) and np.array_equal(v, v_ref)
    np.testing.assert_array_equal(g, g_before)      # the gradient is left alone


def test_update_formula_by_hand():
    p, v, g = np.array([1.0, -2.0]), np.array([0.5, 0.25]), np.array([4.0, -8.0])
    momentum_update(p, v, g, 0.5, 0.25)
    np.testing.assert_array_equal(v, [0.25 - 1.0, 0.125 + 2.0])
    np.testing.assert_array_equal(p, [1.0 - 0.75, -2.0 + 2.125])


def test_update_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="one shape"):
        momentum_update(np.zeros(3), np.zeros(3), np.zeros(4), 0.5, 0.1)


def column_by_column(W, limit):
    norms = np.sqrt(np.einsum("ij,ij->j", W, W))      # the norms as the trainer takes them
    out = W.copy()
    for j, norm in enumerate(norms):
        if norm > limit:
            out[:, j] *= W.dtype.type(limit / norm)
    return out


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("long_columns", [0, 1, 7, 60, 200])
def test_max_norm_paths_agree_with_column_by_column(dtype, long_columns):
    # 200 columns: up to 200 / FEW_COLUMNS = 10 long ones take the indexed path,
    # more take the per-column factor; both must give the column-by-column bits.
    assert 200 // FEW_COLUMNS == 10
    gen = np.random.default_rng(1)
    W = gen.uniform(-1, 1, (50, 200)).astype(dtype)
    W /= np.linalg.norm(W, axis=0) / dtype(0.9)
    W[:, :long_columns] *= dtype(3)
    W[:, 0] = 0                                        # a zero column is left as it is
    expected = column_by_column(W, 2.0)
    limit_column_norms(W, 2.0)
    np.testing.assert_array_equal(W, expected)
    assert np.linalg.norm(W, axis=0).max() <= 2.0 * (1 + 4 * np.finfo(dtype).eps)
