"""Finite-difference checks of every parameter and input gradient of every model,
over hypothesis-drawn shapes, in float64 (advref.tools.gradient_audit)."""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from advref.cli.gradcheck import SUITE, audit
from advref.models import MLP, LogisticRegression, MaxoutMLP, RBFNetwork, SoftmaxRegression
from advref.tools.gradient_audit import check_model, draw_instance, randomize_params

dims = st.integers(1, 6)
classes = st.integers(2, 4)
batch = st.integers(1, 4)
seeds = st.integers(0, 2**32 - 1)


def assert_all_ok(rows):
    bad = [r for r in rows if not r.ok]
    assert not bad, bad
    assert rows


def run_check(model, n, seed, train_seed=None):
    rng = np.random.default_rng(seed)
    randomize_params(model, rng)
    try:
        x, y = draw_instance(model, rng, n, train_seed=train_seed, tries=50)
    except RuntimeError:
        assume(False)   # every draw sat on a kink or had a dead layer: not a test case
    return check_model(model, x, y, train_seed=train_seed)


@given(d=dims, n=batch, seed=seeds)
def test_logistic(d, n, seed):
    assert_all_ok(run_check(LogisticRegression(d), n, seed))


@given(d=dims, k=classes, n=batch, seed=seeds)
def test_softmax(d, k, n, seed):
    assert_all_ok(run_check(SoftmaxRegression(d, k), n, seed))


@given(d=dims, k=classes, n=batch, seed=seeds)
def test_rbf(d, k, n, seed):
    assert_all_ok(run_check(RBFNetwork(d, k), n, seed))


@given(d=dims, k=classes, n=batch, seed=seeds, units=st.lists(st.integers(1, 4), min_size=1,
                                                              max_size=2),
       pieces=st.integers(1, 4), train=st.booleans())
def test_maxout(d, k, n, seed, units, pieces, train):
    layers = len(units) + 1
    model = MaxoutMLP(d, k, units=units, pieces=pieces, include_probs=(0.8,) + (0.5,) * len(units),
                      scales=(1.0,) + (2.0,) * len(units))
    assert model.n_layers == layers
    assert_all_ok(run_check(model, n, seed, train_seed=seed if train else None))


@given(d=dims, k=classes, n=batch, seed=seeds, hidden=st.lists(st.integers(1, 5), min_size=1,
                                                               max_size=3),
       activation=st.sampled_from(["relu", "tanh"]), train=st.booleans())
def test_mlp(d, k, n, seed, hidden, activation, train):
    model = MLP(d, k, hidden=hidden, activation=activation,
                include_probs=(0.9,) * (len(hidden) + 1), scales=(1.5,) * (len(hidden) + 1))
    assert_all_ok(run_check(model, n, seed, train_seed=seed if train else None))


@pytest.mark.parametrize("name", list(SUITE))
def test_command_suite_passes(name):
    assert_all_ok(audit(name))


class WrongBackward(SoftmaxRegression):
    """db off by a factor 1.01: the audit must notice."""

    def backward(self, cache, d_scores, **flags):
        grads, d_x = super().backward(cache, d_scores, **flags)
        if grads:
            grads["b"] = grads["b"] * 1.01
        return grads, d_x


def test_checker_catches_a_wrong_gradient():
    rows = run_check(WrongBackward(4, 3), 3, seed=1)
    by_name = {r.array: r for r in rows}
    assert not by_name["b"].ok
    assert by_name["W"].ok and by_name["input x"].ok


def test_checker_rejects_all_zero_gradients():
    # x = 0 and zero biases: every ReLU pre-activation is 0, the hidden layer is dead and
    # dW0, db0 are exactly zero, which agrees with finite differences but proves nothing.
    rows = check_model(MLP(3, 2, hidden=(2,)), np.zeros((2, 3)), np.array([0, 1]))
    by_name = {r.array: r for r in rows}
    assert by_name["W0"].nonzero == 0 and not by_name["W0"].ok
    assert by_name["b0"].nonzero == 0 and not by_name["b0"].ok


def test_ensemble_loss_and_input_gradient_against_finite_differences():
    from advref import models
    from advref.tools.gradient_audit import numeric_gradient

    rng = np.random.default_rng(3)
    members = [models.SoftmaxRegression(5, 3, init_scale=1.0, rng=1),
               models.MaxoutMLP(5, 3, units=(4,), pieces=2, irange=1.0, rng=2),
               models.MLP(5, 3, hidden=(4,), activation="tanh", rng=3)]
    ens = models.Ensemble(members)
    x, y = rng.random((4, 5)), np.array([0, 2, 1, 2])
    losses, d_x = ens.loss_grad(x, y)
    # the loss is -log of the mean member probability of the true class, by hand
    mean_p = np.mean([m.predict_proba(x)[np.arange(4), y] for m in members], axis=0)
    np.testing.assert_allclose(losses, -np.log(mean_p), rtol=1e-13)
    for i in range(4):
        row = x[i:i + 1].copy()
        numeric = numeric_gradient(lambda row=row, i=i: ens.loss_grad(row, y[i:i + 1])[0].sum(),
                                   row)
        np.testing.assert_allclose(d_x[i], numeric[0], rtol=1e-6, atol=1e-9)
