"""VAT on softmax regression, recomputed by hand from its definition.

For z = x W + b, p = softmax(z(x)) and q = softmax(z(x + r)):
    dKL(p || q)/dx' = (q - p) W^T          the power iteration's g
    dKL/dW          = x'^T (q - p) / n     the penalty's gradient (mean over rows)
The oracle below writes these out with its own softmax (Python's math per row
where it matters) and draws the same random numbers in the same order as the
objective: the supervised term draws none (no dropout), then the unlabelled
rows (semi-supervised only), then d ~ N(0, I).
"""

import warnings

import numpy as np
import pytest

from advref.models import SoftmaxRegression
from advref.training.virtual_adversarial import vat, virtual_adversarial_perturbation


def softmax_rows(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def unit(v):
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def by_hand(model, x, y, gen, *, eps, xi, iterations, weight, x_unlabelled=None, batch=None):
    W, b = model.params["W"], model.params["b"]
    n = len(x)
    p_sup = softmax_rows(x @ W + b)
    loss = float(-np.log(p_sup[np.arange(n), y]).mean())
    d_sup = p_sup.copy()
    d_sup[np.arange(n), y] -= 1
    grads = {"W": x.T @ d_sup / n, "b": d_sup.sum(axis=0) / n}
    xu = x if x_unlabelled is None else x_unlabelled[gen.integers(0, len(x_unlabelled),
                                                                  size=batch or n)]
    p = softmax_rows(xu @ W + b)
    d = unit(gen.standard_normal(xu.shape))
    for _ in range(iterations):
        q = softmax_rows((xu + xi * d) @ W + b)
        d = unit((q - p) @ W.T)
    r = eps * d
    q = softmax_rows((xu + r) @ W + b)
    kl = float((p * (np.log(p) - np.log(q))).sum(axis=1).mean())
    m = len(xu)
    kl_grads = {"W": (xu + r).T @ (q - p) / m, "b": (q - p).sum(axis=0) / m}
    return r, loss + weight * kl, {k: grads[k] + weight * kl_grads[k] for k in grads}


@pytest.fixture
def problem():
    rng = np.random.default_rng(3)
    model = SoftmaxRegression(5, 3, init_scale=1.0, rng=1)
    x = rng.random((4, 5))
    y = np.array([0, 2, 1, 2])
    return model, x, y


@pytest.mark.parametrize("iterations, weight", [(1, 1.0), (2, 0.5), (3, 2.0)])
def test_supervised_vat_objective_value_and_gradient(problem, iterations, weight):
    model, x, y = problem
    objective = vat(0.3, xi=1e-3, iterations=iterations, weight=weight)
    value, grads = objective(model, x, y, np.random.default_rng(11))
    _, expected, expected_grads = by_hand(model, x, y, np.random.default_rng(11), eps=0.3,
                                          xi=1e-3, iterations=iterations, weight=weight)
    np.testing.assert_allclose(value, expected, rtol=1e-9)
    for k in ("W", "b"):
        np.testing.assert_allclose(grads[k], expected_grads[k], rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("batch", [None, 7])
def test_semi_supervised_vat_draws_unlabelled_rows_with_replacement(problem, batch):
    model, x, y = problem
    pool = np.random.default_rng(5).random((9, 5))
    objective = vat(0.2, xi=1e-3, iterations=1, weight=1.5, x_unlabelled=pool,
                    unlabelled_batch=batch)
    value, grads = objective(model, x, y, np.random.default_rng(2))
    _, expected, expected_grads = by_hand(model, x, y, np.random.default_rng(2), eps=0.2,
                                          xi=1e-3, iterations=1, weight=1.5, x_unlabelled=pool,
                                          batch=batch)
    np.testing.assert_allclose(value, expected, rtol=1e-9)
    for k in ("W", "b"):
        np.testing.assert_allclose(grads[k], expected_grads[k], rtol=1e-8, atol=1e-12)


def test_the_perturbation_is_the_power_iterations_direction_at_length_eps(problem):
    model, x, _ = problem
    for iterations in (1, 4):
        r, z_clean = virtual_adversarial_perturbation(model, x, eps=0.7, xi=1e-3,
                                                      iterations=iterations, rng=9)
        expected, _, _ = by_hand(model, x, np.zeros(4, int), np.random.default_rng(9),
                                 eps=0.7, xi=1e-3, iterations=iterations, weight=1.0)
        np.testing.assert_allclose(r, expected, rtol=1e-7, atol=1e-12)
        np.testing.assert_allclose(np.linalg.norm(r, axis=1), 0.7, rtol=1e-14)
        np.testing.assert_allclose(z_clean, x @ model.params["W"] + model.params["b"],
                                   rtol=1e-14)


def test_a_row_with_zero_gradient_keeps_its_random_direction():
    """A model whose scores ignore x gives g = 0: d stays the unit random draw."""
    model = SoftmaxRegression(3, 2, init_scale=0.0)
    x = np.full((2, 3), 0.5)
    r, _ = virtual_adversarial_perturbation(model, x, eps=2.0, rng=4)
    np.testing.assert_allclose(r, 2.0 * unit(np.random.default_rng(4).standard_normal((2, 3))),
                               rtol=1e-15)


def test_bad_vat_arguments_are_named():
    for kwargs, name in (({"xi": -1.0}, "xi"), ({"weight": -1.0}, "weight"),
                         ({"iterations": 0}, "iterations"),
                         ({"x_unlabelled": np.ones(3)}, "x_unlabelled"),
                         ({"unlabelled_batch": 0}, "unlabelled_batch")):
        with pytest.raises(ValueError) as caught:
            vat(1.0, **kwargs)
        assert str(caught.value).startswith(f"{name} must"), str(caught.value)
    with pytest.raises(ValueError, match="^xi must"):
        virtual_adversarial_perturbation(SoftmaxRegression(3, 2), np.ones((1, 3)), eps=1.0,
                                         xi=np.nan)


def test_the_supervised_term_is_the_training_mode_loss_with_the_objectives_draws():
    """weight 0 leaves the supervised term alone: dropout on, the generator's masks."""
    from advref.models import MaxoutMLP

    model = MaxoutMLP(4, 3, units=(5,), pieces=2, irange=0.5, rng=2)
    x = np.random.default_rng(0).random((6, 4))
    y = np.array([0, 1, 2, 0, 1, 2])
    loss, grads = vat(1.0, weight=0.0)(model, x, y, np.random.default_rng(3))
    want_loss, want_grads = model.loss_and_grads(x, y, train=True, rng=np.random.default_rng(3))
    assert loss == want_loss and loss != model.loss_and_grads(x, y)[0]
    for k in want_grads:
        np.testing.assert_array_equal(grads[k], want_grads[k])


def test_default_xi_and_iterations_are_one_millionth_and_one(problem):
    model, x, y = problem
    value, _ = vat(0.3)(model, x, y, np.random.default_rng(4))
    _, expected, _ = by_hand(model, x, y, np.random.default_rng(4), eps=0.3, xi=1e-6,
                             iterations=1, weight=1.0)
    np.testing.assert_allclose(value, expected, rtol=1e-9)
    r, _ = virtual_adversarial_perturbation(model, x, eps=0.3, rng=4)
    want, _, _ = by_hand(model, x, y, np.random.default_rng(4), eps=0.3, xi=1e-6, iterations=1,
                         weight=1.0)
    np.testing.assert_allclose(r, want, rtol=1e-6)


def test_rows_whose_gradient_vanishes_keep_their_own_random_direction():
    """ReLU net with one hidden unit h = relu(x_0 - .5): rows with x_0 < .5 have no
    gradient (they keep their unit random draw), the others move along +-e_0."""
    from advref.models import MLP

    model = MLP(2, 2, hidden=(1,), rng=0)
    model.params["W0"][:] = [[1.0], [0.0]]
    model.params["b0"][:] = [-0.5]
    model.params["W1"][:] = [[1.0, -1.0]]
    x = np.array([[0.2, 0.3], [0.9, 0.1], [0.1, 0.8]])
    r, _ = virtual_adversarial_perturbation(model, x, eps=0.5, xi=1e-3, rng=6)
    draw = unit(np.random.default_rng(6).standard_normal((3, 2)))
    np.testing.assert_allclose(r[[0, 2]], 0.5 * draw[[0, 2]], rtol=1e-15)
    np.testing.assert_allclose(np.abs(r[1]), [0.5, 0.0], rtol=1e-15, atol=1e-300)


def test_kl_and_unit_rows_at_exact_zeros():
    from advref.training.virtual_adversarial import kl_between_scores, unit_rows

    # p = (1, 0) (the second score 800 below: e^-800 underflows), q = (1/2, 1/2); the
    # branch not taken for c = 800 (e^800) must not warn
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        kl, dz = kl_between_scores(np.array([[0.0, -800.0]]), np.array([[0.0, 0.0]]))
    assert kl.tolist() == [pytest.approx(np.log(2), rel=1e-15)]
    np.testing.assert_allclose(dz, [[-0.5, 0.5]], rtol=1e-15)
    np.testing.assert_array_equal(unit_rows(np.array([[0.0, 0.0], [3.0, 4.0]])),
                                  [[0.0, 0.0], [0.6, 0.8]])


@pytest.mark.parametrize("size", [1e200, 1e-300])
def test_vat_direction_is_a_unit_one_at_extreme_gradient_magnitudes(size):
    """A model whose input gradient is scaled by `size` (overflowing or underflowing
    v * v) gives the same r as the unscaled model, of norm eps, with no warning."""
    import warnings

    inner = SoftmaxRegression(4, 3, init_scale=1.0, rng=2)

    class Scaled:
        output = inner.output

        def forward(self, x, **kw):
            return inner.forward(x, **kw)

        def backward(self, cache, dz, **kw):
            grads, d_x = inner.backward(cache, dz, **kw)
            return grads, d_x * size

    x = np.random.default_rng(1).random((5, 4))
    plain, _ = virtual_adversarial_perturbation(inner, x, eps=0.5, xi=1e-3, rng=4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r, _ = virtual_adversarial_perturbation(Scaled(), x, eps=0.5, xi=1e-3, rng=4)
    np.testing.assert_allclose(np.linalg.norm(r, axis=1), 0.5, rtol=1e-15)
    np.testing.assert_allclose(r, plain, rtol=1e-13, atol=1e-16)


def test_a_protocol_model_without_an_output_attribute_is_accepted():
    inner = SoftmaxRegression(3, 2, init_scale=1.0)

    class Bare:
        def forward(self, x, **kw):
            return inner.forward(x, **kw)

        def backward(self, cache, dz, **kw):
            return inner.backward(cache, dz, **kw)

    x = np.full((2, 3), 0.5)
    r, _ = virtual_adversarial_perturbation(Bare(), x, eps=1.0, rng=0)
    np.testing.assert_array_equal(r, virtual_adversarial_perturbation(inner, x, eps=1.0,
                                                                      rng=0)[0])
    with pytest.raises(TypeError, match="^virtual adversarial training needs a model"):
        virtual_adversarial_perturbation(object(), x, eps=1.0)
    with pytest.raises(ValueError, match="^iterations must"):
        virtual_adversarial_perturbation(inner, x, eps=1.0, iterations=0)


def test_vat_keeps_float32_and_checks_x_against_the_model():
    from advref.models import SoftmaxRegression

    model = SoftmaxRegression(3, 2, init_scale=1.0, rng=0, dtype=np.float32)
    x = np.random.default_rng(1).random((4, 3)).astype(np.float32)
    r, z_clean = virtual_adversarial_perturbation(model, x, eps=0.5, rng=2)
    assert r.dtype == np.float32 and z_clean.dtype == np.float32
    with pytest.raises(ValueError, match="features"):
        virtual_adversarial_perturbation(model, np.ones((4, 5), np.float32), eps=0.5)
