"""Exact loss values at hand-computed points, and stability for huge scores."""

import warnings

import numpy as np
import pytest

from advref.models.outputs import OUTPUTS, sigmoid, softplus

softmax_out, sigmoid_out, rbf_out = OUTPUTS["softmax"], OUTPUTS["sigmoid"], OUTPUTS["rbf"]


def test_softmax_hand_computed():
    z = np.array([[0.0, 0.0], [np.log(3.0), 0.0]])
    losses, dz = softmax_out.loss(z, np.array([0, 1]))
    # row 0: p = (1/2, 1/2), loss log 2; row 1: p = (3/4, 1/4), loss log 4
    np.testing.assert_allclose(losses, [np.log(2), np.log(4)], rtol=1e-15)
    np.testing.assert_allclose(dz, [[-0.5, 0.5], [0.75, -0.75]], rtol=1e-15)


def test_sigmoid_hand_computed():
    z = np.array([[0.0], [np.log(3.0)], [np.log(3.0)]])
    losses, dz = sigmoid_out.loss(z, np.array([1, 1, 0]))
    # sigmoid(log 3) = 3/4: y=1 loss log(4/3), y=0 loss log 4
    np.testing.assert_allclose(losses, [np.log(2), np.log(4 / 3), np.log(4)], rtol=1e-15)
    np.testing.assert_allclose(dz[:, 0], [-0.5, -0.25, 0.75], rtol=1e-15)
    np.testing.assert_allclose(sigmoid_out.proba(z)[1], [0.25, 0.75], rtol=1e-15)


def test_rbf_hand_computed():
    q = np.array([[np.log(2.0), np.log(4.0)]])   # p = (1/2, 1/4)
    losses, dz = rbf_out.loss(-q, np.array([0]))
    # target class: -log(1/2); other class: -log(1 - 1/4)
    np.testing.assert_allclose(losses, [np.log(2) - np.log(0.75)], rtol=1e-15)
    # dq: 1 for the target, -p/(1-p) = -1/3 for the other; dz = -dq
    np.testing.assert_allclose(dz, [[-1.0, 1 / 3]], rtol=1e-14)
    np.testing.assert_allclose(rbf_out.proba(-q), [[0.5, 0.25]], rtol=1e-15)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_huge_scores_are_finite_and_silent(dtype):
    big = dtype(1e4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        z = np.array([[big, -big, 0], [-big, -big, -big]], dtype)
        losses, dz = softmax_out.loss(z, np.array([1, 0]))
        np.testing.assert_allclose(losses, [2e4, 0 + np.log(3)], rtol=1e-6)
        assert np.isfinite(dz).all() and dz.dtype == dtype
        zs = np.array([[big], [-big], [big]], dtype)
        losses, dz = sigmoid_out.loss(zs, np.array([0, 0, 1]))
        np.testing.assert_allclose(losses, [1e4, 0, 0], atol=1e-30)
        assert np.isfinite(dz).all()
        losses, dz = rbf_out.loss(np.array([[-big, -big]], dtype), np.array([0]))
        np.testing.assert_allclose(losses, [1e4], rtol=1e-6)   # non-target: -log(1 - e^-1e4) = 0
        assert np.isfinite(dz).all()
        losses, _ = rbf_out.loss(np.array([[0.0, 0.0]], dtype), np.array([0]))
        assert np.isfinite(losses).all()   # a centre hit exactly: large but finite


def test_stable_primitives():
    t = np.array([-1e4, -30.0, 0.0, 30.0, 1e4])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # softplus(t) = log(1 + e^t); e^-1e4 underflows to 0, softplus(1e4) = 1e4 exactly
        expected = [0.0, np.log1p(np.exp(-30.0)), np.log(2.0), 30 + np.log1p(np.exp(-30.0)), 1e4]
        np.testing.assert_allclose(softplus(t), expected, rtol=1e-15, atol=1e-300)
        np.testing.assert_allclose(sigmoid(t), [0, 1 / (1 + np.exp(30)), 0.5,
                                                1 / (1 + np.exp(-30)), 1], rtol=1e-12)


def test_independent_sigmoid_loss_at_a_hand_computed_point():
    import math

    from advref.models.outputs import OUTPUTS

    out = OUTPUTS["sigmoid-ovr"]
    z = np.array([[2.0, -1.0, 0.0]])
    losses, dz = out.loss(z, np.array([0]))
    # target class 0: softplus(-2); others: softplus(-1) and softplus(0)
    expected = math.log1p(math.exp(-2)) + math.log1p(math.exp(-1)) + math.log(2)
    assert losses[0] == pytest.approx(expected, rel=1e-15)
    s = [1 / (1 + math.exp(-v)) for v in (2.0, -1.0, 0.0)]
    # the target's -sigmoid(-2) = -1/(1 + e^2), not s[0] - 1, which cancels
    np.testing.assert_allclose(dz, [[-1 / (1 + math.exp(2)), s[1], s[2]]], rtol=1e-15)
    np.testing.assert_allclose(out.proba(z), [s], rtol=1e-15)      # rows need not sum to 1
    assert out.predict(z)[0] == 0
