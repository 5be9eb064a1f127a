"""Every output's loss and score gradient against a 60-digit `decimal` reference, at
margins from 0 to beyond each dtype's range, in float64 and float32.

The reference takes the given scores as the exact binary numbers they are and
computes from the definitions, rewritten only by identities exact in real
arithmetic (a shift by the largest score; ln(1 + x) and 1 - e^-q at a precision
raised by as many digits as the cancellation can cost). Decimal's exp and ln are
correctly rounded at the context's precision. An error is counted in units of
np.spacing(reference rounded to the dtype), so subnormal and underflowing values are
held to the same absolute grid, and a reference of 1e-304 that comes back as 0
counts ~1e12 units.
"""

from decimal import Context, Decimal, localcontext

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from advref import models
from advref.models.outputs import _Q_FLOOR, OUTPUTS

CONTEXT = Context(prec=60, Emax=10**6, Emin=-10**6)
ULPS = 4                        # the bound: a few units in the last place
DTYPES = (np.float64, np.float32)


def _d(v):
    return Decimal(float(v))


def _digits_lost(x):
    return max(0, -x.adjusted()) if x else 0


def ln1p(x):
    """ln(1 + x) for x >= 0, with digits enough that 1 + x keeps all of x's; below
    10^-prec, ln(1 + x) = x (1 - x/2 + ...) is x to 60 digits."""
    if _digits_lost(x) > CONTEXT.prec:
        return x
    with localcontext(CONTEXT) as c:
        c.prec += _digits_lost(x)
        out = (1 + x).ln()
    return +out                                          # back to the context's precision


def one_minus_exp_neg(q):
    """1 - e^-q for q >= 0, with digits enough that the difference keeps 60; below
    10^-prec it is q (1 - q/2 + ...), q to 60 digits."""
    if _digits_lost(q) > CONTEXT.prec:
        return q
    with localcontext(CONTEXT) as c:
        c.prec += _digits_lost(q)
        out = 1 - (-q).exp()
    return +out


def ref_softmax(z, y):
    """(loss, dz) of one row: L = ln sum_k e^(z_k - z_y) = (z_m - z_y) + ln(1 + sum_(k!=m)
    e^(z_k - z_m)) with m the largest; dz_k = p_k, dz_y = -sum_(k!=y) p_k."""
    m = int(np.argmax(z))
    e = [(_d(v) - _d(z[m])).exp() for v in z]
    total = sum(e)
    dz = [v / total for v in e]
    dz[y] = -sum(v for k, v in enumerate(e) if k != y) / total
    return (_d(z[m]) - _d(z[y])) + ln1p(sum(v for k, v in enumerate(e) if k != m)), dz


def softplus_and_sigmoid(t):
    """(ln(1 + e^t), e^t / (1 + e^t)), through e^-|t| <= 1."""
    e = (-abs(t)).exp()
    if t > 0:
        return t + ln1p(e), 1 / (1 + e)
    return ln1p(e), e / (1 + e)


def ref_sigmoid(z, y):
    s = 2 * int(y) - 1                                   # L = ln(1 + e^t), t = -s z
    loss, sig = softplus_and_sigmoid(-s * _d(z[0]))
    return loss, [-s * sig]


def ref_sigmoid_ovr(z, y):
    loss, dz = Decimal(0), []
    for k, v in enumerate(z):
        t = 1 if k == y else -1
        term, sig = softplus_and_sigmoid(-t * _d(v))
        loss += term
        dz.append(-t * sig)
    return loss, dz


def ref_rbf(z, y, floor):
    loss, dz = Decimal(0), []
    for k, v in enumerate(z):
        q = max(-_d(v), _d(floor))
        if k == y:
            loss, dz = loss + q, dz + [Decimal(-1)]
        else:
            p, one_minus_p = (-q).exp(), one_minus_exp_neg(q)
            loss, dz = loss - one_minus_p.ln(), dz + [p / one_minus_p]
    return loss, dz


def reference(name, z, y):
    with localcontext(CONTEXT):
        if name == "softmax":
            return ref_softmax(z, y)
        if name == "sigmoid":
            return ref_sigmoid(z, y)
        if name == "sigmoid-ovr":
            return ref_sigmoid_ovr(z, y)
        return ref_rbf(z, y, _Q_FLOOR[z.dtype])


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
        z = np.array([[-0.25, -m - dtype(0.5)], [-m, -dtype(1e-3)], [-m, -m]], dtype)
        return z, np.array([0, 0, 1])
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
