"""Every output's loss and score gradient against a 60-digit `decimal` reference, at
margins from 0 to beyond each dtype's range, in float64 and float32.

The reference is tests/decimal_reference.py. An error is counted in units of
np.spacing(reference rounded to the dtype), so subnormal and underflowing values are
held to the same absolute grid, and a reference of 1e-304 that comes back as 0
counts ~1e12 units.
"""

import warnings
from decimal import localcontext

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from advref import models
from advref.models.outputs import OUTPUTS
from tests.decimal_reference import CONTEXT, _d, ref_softmax, reference

ULPS = 4                        # the bound: a few units in the last place
DTYPES = (np.float64, np.float32)


def ulps(got, ref, dtype):
    """|got - ref| in units of the spacing at ref rounded to dtype (float64 arithmetic
    on Decimal differences, so the error itself is not rounded away)."""
    r = np.dtype(dtype).type(float(ref))
    if np.isinf(r):
        return 0.0 if got == r else np.inf
    with localcontext(CONTEXT):
        diff = abs(_d(got) - ref)
    return float(diff) / float(np.spacing(np.abs(r)))


def worst_ulps(name, z, y):
    losses, dz = OUTPUTS[name].loss(z, y)
    worst = 0.0
    for i in range(len(z)):
        ref_loss, ref_dz = reference(name, z[i], y[i])
        worst = max(worst, ulps(losses[i], ref_loss, z.dtype),
                    *(ulps(dz[i, k], ref_dz[k], z.dtype) for k in range(z.shape[1])))
    return worst


def margins(dtype):
    """0, small, where p_y rounds to 1 in each dtype, where e^-margin is subnormal and
    where it underflows, up to a quarter of the largest float."""
    big = float(np.finfo(dtype).max) / 4
    return [0.0, 1e-7, 0.5, 1.0, 10.0, 17.0, 20.0, 40.0, 88.0, 100.0, 104.0, 110.0,
            700.0, 740.0, 750.0, 1e4, 1e30, big]


def rows_at(name, margin, dtype):
    """Scores whose winning margin is `margin`, with the label on the winner and off it."""
    m = dtype(margin)
    if name == "sigmoid":
        z = np.array([[m], [-m], [m], [-m]], dtype)
        return z, np.array([1, 1, 0, 0])
    if name == "rbf":                      # scores are -q <= 0: one near centre, one far
        # on the target's centre (q_y = 0) the loss is the non-target terms ~ e^-q alone
        z = np.array([[-0.25, -m - dtype(0.5)], [-m, -dtype(1e-3)], [-m, -m], [0, -m]],
                     dtype)
        return z, np.array([0, 0, 1, 0])
    z = np.array([[0, -m, -m - dtype(1.5), -m / 2]] * 3, dtype)
    # an offset whose sums round: z - max z is then inexact, as in real scores
    return np.concatenate([z + dtype(3), z + dtype(np.pi)]), np.array([0, 1, 3] * 2)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(OUTPUTS))
def test_loss_and_score_gradient_within_a_few_ulps_at_every_margin(name, dtype):
    with np.errstate(all="raise", under="ignore"):
        for margin in margins(dtype):
            z, y = rows_at(name, margin, dtype)
            assert worst_ulps(name, z, y) <= ULPS, (name, margin)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(sorted(OUTPUTS)), st.sampled_from(DTYPES),
       st.lists(st.floats(-800, 50), min_size=3, max_size=3),
       st.integers(0, 2))
def test_random_scores_within_a_few_ulps(name, dtype, scores, label):
    if name == "sigmoid":
        z, y = np.array([[scores[0]]], dtype), np.array([label % 2])
    elif name == "rbf":
        z, y = -np.abs(np.array([scores], dtype)), np.array([label])
    else:
        z, y = np.array([scores], dtype), np.array([label])
    with np.errstate(all="raise", under="ignore"):
        assert worst_ulps(name, z, y) <= ULPS


def test_softmax_minus_onehot_is_what_these_tests_catch():
    """The framework formula loses dz_y = -sum p_(k!=y) and the loss once p_y rounds to
    1: at a margin of 40 in float64 both are ~4e-18, and it returns 0 for each."""
    z = np.array([[40.0, 0.0, 0.0]])
    shifted = z - z.max()
    p = np.exp(shifted) / np.exp(shifted).sum()
    assert p[0, 0] - 1 == 0 and np.log(np.exp(shifted).sum()) == 0
    with localcontext(CONTEXT):
        ref_loss, ref_dz = ref_softmax(z[0], 0)
    assert ulps(p[0, 0] - 1, ref_dz[0], np.float64) > 1e15
    losses, dz = OUTPUTS["softmax"].loss(z, np.array([0]))
    assert ulps(dz[0, 0], ref_dz[0], np.float64) <= 1
    assert ulps(losses[0], ref_loss, np.float64) <= 1


@pytest.mark.parametrize("dtype", DTYPES)
def test_saturated_input_gradient_meets_the_dot_product_bound(dtype):
    """d_x = dz W^T. With dz within a few ulps, each entry is within the dot product's
    bound (ULPS + k) u sum_k |dz_k W_jk| of the exact value; with dz_y = 0 (softmax -
    onehot) the true-class term, as large as all the others together, is lost."""
    rng = np.random.default_rng(0)
    model = models.SoftmaxRegression(8, 4, init_scale=1.0, rng=1, dtype=dtype)
    model.params["W"] = (model.params["W"] * 60).astype(dtype)
    x = rng.random((400, 8)).astype(dtype)
    top2 = np.sort(model.forward(x)[0], axis=1)[:, -2:]
    margin = top2[:, 1] - top2[:, 0]
    x = x[(margin > 20) & (margin < 80)][:6]         # saturated, p representable in float32
    assert len(x) == 6
    z = model.forward(x)[0]
    y = z.argmax(axis=1)
    _, d_x = model.loss_grad(x, y)
    W = model.params["W"]
    u = np.finfo(dtype).eps / 2
    with localcontext(CONTEXT):
        for i in range(len(x)):
            ref_dz = ref_softmax(z[i], y[i])[1]
            for j in range(8):
                exact = sum(ref_dz[k] * _d(W[j, k]) for k in range(4))
                bound = (ULPS + 4) * u * float(sum(abs(ref_dz[k] * _d(W[j, k]))
                                                   for k in range(4)))
                assert abs(float(_d(d_x[i, j]) - exact)) <= bound, (i, j)
                assert np.sign(d_x[i, j]) == np.sign(float(exact))


def test_rbf_on_a_centre_keeps_every_other_class_term():
    """On class 0's centre, q_0 = 0 exactly and the loss and input gradient are the
    other classes' terms alone (~e^-q): the difference form keeps them, where the
    expanded (x*x) A - 2 x (A mu) + A mu mu cancels them against the target's."""
    rbf = models.RBFNetwork(3, 2, gamma_init=4.0, rng=0)
    rbf.params["mu"] = np.array([[0.2, 0.5, 0.9], [0.9, 0.1, 0.2]])
    x = rbf.params["mu"][:1].copy()
    z, _ = rbf.forward(x)
    assert z[0, 0] == 0.0
    q1 = 16 * ((0.2 - 0.9) ** 2 + (0.5 - 0.1) ** 2 + (0.9 - 0.2) ** 2)
    assert abs(-z[0, 1] - q1) <= 4 * np.spacing(q1)
    losses, d_x = rbf.loss_grad(x, np.array([0]))
    p = np.exp(-q1)
    # loss: floor of q_0 plus -log(1 - p); d_x: the other class's term only
    np.testing.assert_allclose(losses, [np.finfo(np.float64).tiny + -np.log1p(-p)], rtol=1e-14)
    expected = -p / (1 - p) * 2 * 16 * (x[0] - rbf.params["mu"][1])
    np.testing.assert_allclose(d_x[0], expected, rtol=1e-13)
    grads, none = rbf.backward(rbf.forward(x)[1], -np.ones((1, 2)), need_input=False)
    assert none is None and set(grads) == {"mu", "gamma"}
    empty, d_only = rbf.backward(rbf.forward(x)[1], -np.ones((1, 2)), need_params=False)
    assert empty == {} and d_only.shape == (1, 3)


def test_score_differences_beyond_the_float_range_are_silent_and_right():
    """z_k - z_max overflows to -inf for a score 2e308 below the top: e^-inf = 0, its
    TwoSum residual is set to 0 (not inf - inf), and no warning is raised."""
    z = np.array([[1e308, -1e308, 0.0], [1e308, -1e308, 0.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="warn", invalid="warn", divide="warn"):  # under: ignored
            losses, dz = OUTPUTS["softmax"].loss(z, np.array([0, 1]))
    assert losses[0] == 0.0 and losses[1] == np.inf        # exact: ~e^-1e308, and 2e308
    np.testing.assert_array_equal(dz, [[0.0, 0.0, 0.0], [1.0, -1.0, 0.0]])
