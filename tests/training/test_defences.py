"""Adversarial training, the closed-form adversarial logistic loss, noise controls, VAT."""

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from advref import error_rate, fgsm, train
from advref.models import MLP, LogisticRegression, SoftmaxRegression
from advref.tools.gradient_audit import compare, numeric_gradient
from advref.training.closed_form_logistic import adversarial_logistic, adversarial_logistic_loss
from advref.training.monitors import adversarial_error
from advref.training.objectives import adversarial, noise
from advref.training.virtual_adversarial import (
    kl_between_scores,
    vat,
    vat_penalty,
    virtual_adversarial_perturbation,
)

small = st.floats(-2, 2, allow_nan=False)


@given(d=st.integers(1, 8), seed=st.integers(0, 2**32 - 1), eps=st.floats(0, 1),
       b=small, data=st.data())
def test_adversarial_logistic_loss_is_the_loss_at_the_fgsm_point(d, seed, eps, b, data):
    rng = np.random.default_rng(seed)
    model = LogisticRegression(d)
    model.params["W"] = data.draw(hnp.arrays(np.float64, (d, 1), elements=small))
    model.params["b"] = np.array([b])
    x = rng.random((6, d))
    y = rng.integers(0, 2, 6)
    closed, _ = adversarial_logistic_loss(model, x, y, eps)
    at_fgsm, _ = model.loss_grad(fgsm(model, x, eps, y=y, clip=None), y)
    np.testing.assert_allclose(closed, at_fgsm.mean(), rtol=1e-12, atol=1e-14)


@given(d=st.integers(1, 6), seed=st.integers(0, 2**32 - 1), eps=st.floats(0, 1))
def test_adversarial_logistic_gradient_matches_finite_differences(d, seed, eps):
    rng = np.random.default_rng(seed)
    model = LogisticRegression(d)
    model.params["W"] = rng.standard_normal((d, 1))
    assume(np.abs(model.params["W"]).min() > 1e-3)   # |w_i| has a kink at 0
    x, y = rng.random((5, d)), rng.integers(0, 2, 5)
    _, grads = adversarial_logistic_loss(model, x, y, eps)
    for key in ("W", "b"):
        numeric = numeric_gradient(lambda: adversarial_logistic_loss(model, x, y, eps)[0],
                                   model.params[key])
        assert compare("adv-logistic", key, grads[key], numeric).ok


def test_adversarial_logistic_subgradient_is_zero_at_zero_weights():
    model = LogisticRegression(2)
    model.params["W"] = np.array([[0.0], [1.0]])
    x, y = np.zeros((1, 2)), np.array([1])
    _, plain = adversarial_logistic_loss(model, x, y, 0.0)
    _, adv = adversarial_logistic_loss(model, x, y, 0.5)
    assert adv["W"][0, 0] == plain["W"][0, 0] == 0.0


@given(seed=st.integers(0, 2**32 - 1), alpha=st.floats(0, 1), eps=st.floats(0.01, 0.5))
def test_adversarial_objective_gradient_with_x_adv_held_fixed(seed, alpha, eps):
    rng = np.random.default_rng(seed)
    model = MLP(5, 3, hidden=(4,), activation="tanh", rng=seed % 100)   # no dropout
    x, y = rng.random((6, 5)), rng.integers(0, 3, 6)
    x_adv = fgsm(model, x, eps, y=y)
    loss, grads = adversarial(eps=eps, alpha=alpha)(model, x, y, rng)

    def fixed():
        return alpha * model.loss_grad(x, y)[0].mean() + \
            (1 - alpha) * model.loss_grad(x_adv, y)[0].mean()

    np.testing.assert_allclose(loss, fixed(), rtol=1e-12)
    for key in model.params:
        assert compare("adv-objective", key, grads[key],
                       numeric_gradient(fixed, model.params[key])).ok


@pytest.mark.parametrize("alpha", [0.5, 0.3])
def test_adversarial_objective_is_the_alpha_mixture_of_two_losses(alpha):
    """alpha = 1/2 takes the stacked-batch path, 0.3 the two-pass one: both equal
    alpha * J(x) + (1 - alpha) * J(x_adv) and its gradient (no dropout here)."""
    rng = np.random.default_rng(4)
    model = MLP(5, 3, hidden=(4,), activation="relu", rng=2)
    x, y = rng.random((7, 5)), rng.integers(0, 3, 7)
    x_adv = fgsm(model, x, 0.1, y=y)
    loss, grads = adversarial(eps=0.1, alpha=alpha)(model, x, y, rng)
    loss_c, grads_c = model.loss_and_grads(x, y)
    loss_a, grads_a = model.loss_and_grads(x_adv, y)
    np.testing.assert_allclose(loss, alpha * loss_c + (1 - alpha) * loss_a, rtol=1e-13)
    for k in model.params:
        np.testing.assert_allclose(grads[k], alpha * grads_c[k] + (1 - alpha) * grads_a[k],
                                   rtol=1e-12, atol=1e-15)


def train_twice(objective, data):
    x, y = data
    params = []
    for obj in (None, objective):
        model = MLP(405, 2, hidden=(16,), include_probs=(0.8, 0.5), scales=(1.0, 2.0), rng=3)
        kw = {} if obj is None else {"objective": obj}
        train(model, x, y, epochs=2, lr=0.05, momentum=0.5, rng=11, log=None, **kw)
        params.append(model.params)
    return params


def robust_and_weak_features(n, seed):
    """5 strong features (mean +-1, sd .5) and 400 weak ones (mean +-.1, sd 1): a clean
    model leans on the weak ones, which an L_inf step of .2 overturns."""
    g = np.random.default_rng(seed)
    y = g.integers(0, 2, n)
    s = (2 * y - 1)[:, None]
    return np.hstack([s * 1.0 + 0.5 * g.standard_normal((n, 5)),
                      s * 0.1 + g.standard_normal((n, 400))]), y


def test_alpha_one_is_clean_training_bit_for_bit():
    clean, adv = train_twice(adversarial(eps=0.25, alpha=1.0, clip=None),
                             robust_and_weak_features(300, 0))
    assert all(np.array_equal(clean[k], adv[k]) for k in clean)


@pytest.mark.parametrize("make", [lambda: SoftmaxRegression(405, 2),
                                  lambda: MLP(405, 2, hidden=(50,), rng=0)])
def test_adversarial_training_lowers_fgsm_error_on_synthetic_data(make):
    x, y = robust_and_weak_features(2000, 0)
    xt, yt = robust_and_weak_features(1000, 1)
    errors = {}
    for name, objective in (("clean", None), ("adv", adversarial(eps=0.2, clip=None))):
        model = make()
        kw = {} if objective is None else {"objective": objective}
        train(model, x, y, epochs=10, lr=0.05, momentum=0.5, log=None, rng=0, **kw)
        errors[name] = (error_rate(model, xt, yt),
                        error_rate(model, fgsm(model, xt, 0.2, y=yt, clip=None), yt))
    # measured (seed 0): softmax 37.7% -> 0.0%, MLP 59.9% -> 3.6% FGSM error; clean 0% both
    assert errors["clean"][1] > 0.30
    assert errors["adv"][1] < 0.10
    assert errors["adv"][0] <= errors["clean"][0] + 0.01


def test_adversarial_logistic_objective_trains_a_robust_model():
    x, y = robust_and_weak_features(2000, 0)
    xt, yt = robust_and_weak_features(1000, 1)
    model = LogisticRegression(405)
    train(model, x, y, epochs=10, lr=0.05, momentum=0.5, log=None,
          objective=adversarial_logistic(0.2))
    assert error_rate(model, fgsm(model, xt, 0.2, y=yt, clip=None), yt) < 0.05


@pytest.mark.parametrize("kind", ["sign", "uniform"])
def test_noise_objective_uses_perturbed_inputs(kind):
    model = SoftmaxRegression(4, 2)
    x, y = np.full((3, 4), 0.5), np.array([0, 1, 0])
    loss0, _ = noise(kind, eps=0.0, alpha=0.0)(model, x, y, np.random.default_rng(0))
    assert loss0 == model.loss_and_grads(x, y)[0]
    with pytest.raises(ValueError, match="noise kind"):
        noise("gaussian")


def test_adversarial_monitor_and_bad_alpha():
    model = SoftmaxRegression(405, 2)
    x, y = robust_and_weak_features(200, 2)
    assert adversarial_error(0.0, clip=None)(model, x, y) == error_rate(model, x, y)
    with pytest.raises(ValueError, match="alpha must be in"):
        adversarial(alpha=1.5)


def test_kl_gradient_wrt_scores_matches_finite_differences():
    rng = np.random.default_rng(0)
    z0, z = rng.standard_normal((4, 5)), rng.standard_normal((4, 5))
    _, dz = kl_between_scores(z0, z)
    assert compare("kl", "z", dz,
                   numeric_gradient(lambda: kl_between_scores(z0, z)[0].sum(), z)).ok
    kl_self, d_self = kl_between_scores(z0, z0)
    assert not kl_self.any() and not d_self.any()          # exactly 0: c = 0, G = 0


def test_vat_penalty_parameter_gradient_matches_finite_differences():
    rng = np.random.default_rng(1)
    model = MLP(5, 3, hidden=(6,), activation="tanh", rng=2)
    x = rng.random((4, 5))
    r, z_clean = virtual_adversarial_perturbation(model, x, eps=0.5, rng=3)
    np.testing.assert_allclose(np.linalg.norm(r, axis=1), 0.5)
    _, grads = vat_penalty(model, x, r, z_clean)
    for key in model.params:
        numeric = numeric_gradient(lambda: vat_penalty(model, x, r, z_clean)[0],
                                   model.params[key])
        assert compare("vat", key, grads[key], numeric).ok


def test_power_iteration_finds_the_top_eigenvector_for_softmax_regression():
    """For z = x W + b the KL Hessian at r = 0 is W (diag(p) - p p^T) W^T."""
    rng = np.random.default_rng(4)
    model = SoftmaxRegression(6, 3)
    model.params["W"] = rng.standard_normal((6, 3))
    x = rng.random((1, 6))
    r, z = virtual_adversarial_perturbation(model, x, eps=1.0, xi=1e-4, iterations=60, rng=0)
    W, q = model.params["W"], np.exp(z[0]) / np.exp(z[0]).sum()
    hessian = W @ (np.diag(q) - np.outer(q, q)) @ W.T
    top = np.linalg.eigh(hessian)[1][:, -1]
    assert abs(r[0] @ top) > 0.999


def two_clusters(n, seed):
    g = np.random.default_rng(seed)
    y = g.integers(0, 2, n)
    x = g.standard_normal((n, 2)) * np.array([0.4, 3.0])
    x[:, 0] += 1.5 * (2 * y - 1)
    return x, y


def test_vat_with_four_labels_beats_supervised_training():
    x_u, y_u = two_clusters(2000, 0)
    x_t, y_t = two_clusters(2000, 1)
    supervised, semi = [], []
    for seed in range(5):
        g = np.random.default_rng(seed)
        idx = np.r_[g.choice(np.flatnonzero(y_u == 0), 2, replace=False),
                    g.choice(np.flatnonzero(y_u == 1), 2, replace=False)]
        for errors, objective in ((supervised, None),
                                  (semi, vat(0.5, x_unlabelled=x_u, unlabelled_batch=200))):
            model = MLP(2, 2, hidden=(20,), rng=seed)
            kw = {} if objective is None else {"objective": objective}
            train(model, x_u[idx], y_u[idx], epochs=1000, batch_size=4, lr=0.1, momentum=0.9,
                  log=None, rng=seed, **kw)
            errors.append(error_rate(model, x_t, y_t))
    # measured: supervised 8.1, 0.05, 2.3, 9.1, 14.9% ; VAT 0.05, 0, 0, 0.05, 0%
    assert np.mean(supervised) > 0.04
    assert np.mean(semi) < 0.01
    assert all(s <= u + 1e-9 for s, u in zip(semi, supervised, strict=True))


def test_vat_refuses_non_softmax_models():
    from advref.models import RBFNetwork

    with pytest.raises(ValueError, match="VAT needs softmax scores"):
        virtual_adversarial_perturbation(RBFNetwork(3, 2), np.zeros((1, 3)), eps=0.1)
