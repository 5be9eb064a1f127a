"""Outputs and activations at their edges: huge scores, exact ties, kinks, dtypes.

Oracles: Python's math on one row at a time (logsumexp by hand), the argmax of
the probabilities for ties, and brute-force minima over every pair of pieces.
"""

import itertools
import math

import numpy as np
import pytest

from advref.models.activations import Maxout, ReLU, Tanh, maxout_backward_reference
from advref.models.outputs import OUTPUTS, log_softmax, softmax


def log_softmax_by_hand(row):
    top = max(row)
    total = math.fsum(math.exp(v - top) for v in row)
    return [v - top - math.log(total) for v in row]


def test_softmax_survives_huge_scores_and_rows_of_different_size():
    # exp(1001) overflows; a shift by the whole array's max (not each row's)
    # underflows the first row to 0/0.
    z = np.array([[0.0, 1.0, -2.0], [1000.0, 1001.0, 998.0], [-1000.0, -999.0, -1002.0]])
    expected = np.array([log_softmax_by_hand(row) for row in z.tolist()])
    np.testing.assert_allclose(log_softmax(z), expected, rtol=1e-15, atol=1e-15)
    np.testing.assert_allclose(softmax(z), np.exp(expected), rtol=1e-15, atol=1e-15)
    np.testing.assert_allclose(softmax(z)[0], softmax(z)[1], rtol=1e-15)


def test_the_softmax_loss_survives_huge_scores():
    z = np.array([[1000.0, 1001.0, 998.0], [0.0, 1.0, -2.0]])
    losses, d_z = OUTPUTS["softmax"].loss(z, np.array([2, 2]))
    by_hand = -log_softmax_by_hand([1000.0, 1001.0, 998.0])[2]
    np.testing.assert_allclose(losses, [by_hand, by_hand], rtol=1e-15)
    np.testing.assert_allclose(d_z[0], np.exp(log_softmax_by_hand(z[0].tolist())) - [0, 0, 1],
                               rtol=1e-14)


def test_a_logistic_score_of_exactly_zero_predicts_class_0_like_its_probabilities():
    out = OUTPUTS["sigmoid"]
    z = np.array([[0.0], [1e-300], [-1e-300], [-0.0]])
    np.testing.assert_array_equal(out.proba(z), [[0.5, 0.5], [0.5, 0.5], [0.5, 0.5],
                                                 [0.5, 0.5]])
    predicted = out.predict(z)
    assert predicted.dtype == np.int64
    np.testing.assert_array_equal(predicted, [0, 1, 0, 0])


@pytest.mark.parametrize("name", ["softmax", "sigmoid", "sigmoid-ovr", "rbf"])
def test_float32_scores_give_float32_losses_and_gradients(name):
    z = np.array([[-0.5, -2.0, -0.25], [-3.0, -0.125, -1.0]], np.float32)
    if name == "sigmoid":
        z = z[:, :1]
    losses, d_z = OUTPUTS[name].loss(z, np.array([1, 0]))
    assert losses.dtype == np.float32 and d_z.dtype == np.float32


def test_relu_takes_the_subgradient_0_at_exactly_zero():
    z = np.array([[-1.0, 0.0, -0.0, 2.0]])
    np.testing.assert_array_equal(ReLU().backward(np.ones_like(z), z), [[0, 0, 0, 1]])
    assert ReLU().kink_distance(np.array([[3.0, -0.5], [2.0, 1.0]])) == 0.5
    assert Tanh().kink_distance(np.zeros((2, 2))) == math.inf


@pytest.mark.parametrize("pieces", [2, 3, 4])
def test_maxout_kink_distance_is_the_smallest_gap_between_a_units_top_two_pieces(pieces):
    rng = np.random.default_rng(pieces)
    units, n = 3, 4
    z = rng.permutation(n * pieces * units).reshape(n, pieces * units).astype(float) * 0.5
    act = Maxout(pieces)
    _, cache = act.forward(z)
    gaps = []
    for i, j in itertools.product(range(n), range(units)):
        values = sorted(z[i, r * units + j] for r in range(pieces))
        gaps.append(values[-1] - values[-2])
    assert act.kink_distance(cache) == min(gaps)
    assert Maxout(1).kink_distance(Maxout(1).forward(z)[1]) == math.inf


def test_maxout_forward_and_backward_by_hand_with_float32():
    z = np.array([[1, 9, 4, 2, 3, 8]], np.float32)        # 2 pieces x 3 units, piece-major
    act = Maxout(2)
    h, cache = act.forward(z)
    np.testing.assert_array_equal(h, [[2, 9, 8]])
    dh = np.array([[1, 2, 3]], np.float32)
    dz = act.backward(dh, cache)
    assert dz.shape == (1, 6) and dz.dtype == np.float32
    np.testing.assert_array_equal(dz, [[0, 2, 0, 1, 0, 3]])
    ref = maxout_backward_reference(z, dh, 2)
    assert ref.dtype == np.float32
    np.testing.assert_array_equal(ref, dz)


def test_maxout_with_every_maximum_unique_routes_each_gradient_once():
    # n*u winners exactly: the tie-thinning branch must not run, and must not be needed
    z = np.array([[5.0, 0.0], [1.0, 3.0], [2.0, 7.0]]).T.reshape(2, 3)
    act = Maxout(3)
    dz = act.backward(np.array([[1.0], [2.0]]), act.forward(z.reshape(2, 3))[1])
    np.testing.assert_array_equal(dz, maxout_backward_reference(z.reshape(2, 3),
                                                                np.array([[1.0], [2.0]]), 3))
