"""Properties of the attacks and measurements, on any model of the protocol."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from advref import (
    adversarial_subspace,
    cross_section,
    fgsm,
    fgsm_plane,
    logit_path,
    minimal_perturbation,
    random_sign,
    random_uniform,
    rubbish_report,
    rubbish_samples,
    transfer,
)
from advref.models import MaxoutMLP, RBFNetwork, SoftmaxRegression

NORM_OF = {np.inf: lambda e: np.abs(e).max(axis=1), 2: lambda e: np.linalg.norm(e, axis=1),
           1: lambda e: np.abs(e).sum(axis=1)}


def small_maxout(dtype=np.float64):
    model = MaxoutMLP(12, 4, units=(6, 6), pieces=3, rng=0, irange=0.5, dtype=dtype)
    return model


def batch(dtype=np.float64, n=8, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, 12)).astype(dtype), rng.integers(0, 4, n)


@given(norm=st.sampled_from([np.inf, 2, 1]), eps=st.floats(0, 2), seed=st.integers(0, 99),
       dtype=st.sampled_from([np.float32, np.float64]), clip=st.booleans())
def test_fgsm_norm_bound_clip_dtype_and_no_mutation(norm, eps, seed, dtype, clip):
    model = small_maxout(dtype)
    x, y = batch(dtype, seed=seed)
    x_before = x.copy()
    x_adv = fgsm(model, x, eps, y=y, norm=norm, clip=(0.0, 1.0) if clip else None)
    np.testing.assert_array_equal(x, x_before)
    assert x_adv.dtype == dtype and x_adv.shape == x.shape
    rounding = 4 * np.finfo(dtype).eps * (1 + eps)
    diff = x_adv.astype(np.float64) - x.astype(np.float64)
    assert (NORM_OF[norm](diff) <= eps * (1 + rounding) + rounding).all()
    if clip:
        assert x_adv.min() >= 0 and x_adv.max() <= 1


@pytest.mark.parametrize("norm", [np.inf, 2, 1])
def test_eps_zero_returns_x(norm):
    model = small_maxout()
    x, y = batch()
    np.testing.assert_array_equal(fgsm(model, x, 0.0, y=y, norm=norm), x)


def test_fgsm_raises_the_loss_and_y_none_uses_predictions():
    model = small_maxout()
    x, y = batch()
    loss_before, _ = model.loss_grad(x, y)
    loss_after, _ = model.loss_grad(fgsm(model, x, 0.01, y=y, clip=None), y)
    assert (loss_after > loss_before).all()
    pred = model.predict(x)
    np.testing.assert_array_equal(fgsm(model, x, 0.1), fgsm(model, x, 0.1, y=pred))


BAD = [
    (dict(eps=-0.1), ValueError, "eps must be >= 0"),
    (dict(eps=float("nan")), ValueError, "eps must be >= 0"),
    (dict(norm=3), ValueError, "norm must be np.inf, 2 or 1"),
    (dict(clip=(1.0, 0.0)), ValueError, "low < high"),
    (dict(clip=(0.5, 0.5)), ValueError, "low < high"),
    (dict(y=np.full(8, 4)), ValueError, r"class indices in \[0, 4\)"),
    (dict(y=np.zeros(3, int)), ValueError, r"shape \(8,\)"),
    (dict(targeted=True), ValueError, "needs the target classes"),
]


@pytest.mark.parametrize("kwargs, error, message", BAD)
def test_fgsm_bad_input(kwargs, error, message):
    model = small_maxout()
    x, _ = batch()
    args = {"eps": 0.1, **kwargs}
    with pytest.raises(error, match=message):
        fgsm(model, x, **args)


def test_fgsm_refuses_data_outside_the_box_unless_clip_none():
    model = small_maxout()
    x, y = batch()
    x_out = x * 3 - 1
    with pytest.raises(ValueError, match="inside the clip box"):
        fgsm(model, x_out, 0.1, y=y)
    assert np.isfinite(fgsm(model, x_out, 0.1, y=y, clip=None)).all()
    with pytest.raises(ValueError, match="must be finite"):
        fgsm(model, np.full((2, 12), np.nan), 0.1)


class UsersOwnModel:
    """A protocol-only model (no advref base class): scores = x @ A."""

    def __init__(self):
        self.A = np.random.default_rng(0).standard_normal((12, 3))

    def predict_proba(self, x):
        z = x @ self.A
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def predict(self, x):
        return (x @ self.A).argmax(axis=1)

    def loss_grad(self, x, y):
        p = self.predict_proba(x)
        losses = -np.log(p[np.arange(len(y)), y])
        p[np.arange(len(y)), y] -= 1
        return losses, p @ self.A.T



class UsersModelWithScores(UsersOwnModel):
    """The same model exposing its scores, as logit_path needs."""

    def forward(self, x, *, train=False, rng=None):
        return x @ self.A, None


def test_a_users_model_plugs_in():
    model = UsersOwnModel()
    x, _ = batch()
    y = model.predict(x)
    x_adv = fgsm(model, x, 0.3, y=y)
    assert (model.predict(x_adv) != y).mean() > 0
    # FGSM's step is eps * sign(dL/dx), with dL/dx = (softmax(xA) - onehot(y)) A^T
    p = model.predict_proba(x)
    p[np.arange(len(y)), y] -= 1
    np.testing.assert_allclose(x_adv, np.clip(x + 0.3 * np.sign(p @ model.A.T), 0, 1))
    assert adversarial_subspace(model, x, y, 1.0, 5).shape == (8,)
    with pytest.raises(TypeError, match="logit_path needs .*forward"):
        logit_path(model, x, np.sign(x_adv - x), [0, 0.1])
    path = logit_path(UsersModelWithScores(), x, np.sign(x_adv - x), [0, 0.1])
    np.testing.assert_allclose(path[1], (x + 0.1 * np.sign(x_adv - x)) @ model.A)


def test_a_model_missing_a_protocol_method_is_named():
    class NoGradient:
        def predict(self, x):
            return np.zeros(len(x), int)

    x, y = batch()
    with pytest.raises(TypeError, match="fgsm needs .*without loss_grad"):
        fgsm(NoGradient(), x, 0.1, y=y)
    with pytest.raises(TypeError, match="minimal_perturbation needs"):
        minimal_perturbation(NoGradient(), x[:1])


@pytest.mark.parametrize("control", [random_sign, random_uniform])
def test_random_controls_budget_seed_dtype(control):
    x, _ = batch(np.float32)
    a = control(x, 0.2, 5, clip=None)
    b = control(x, 0.2, np.random.default_rng(5), clip=None)
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.float32
    assert np.abs(a - x).max() <= 0.2 + 1e-6
    if control is random_sign:
        np.testing.assert_allclose(np.abs(a - x), 0.2, rtol=1e-5)
    clipped = control(x, 0.2, 5)
    assert clipped.min() >= 0 and clipped.max() <= 1
    with pytest.raises(ValueError, match="eps must be >= 0"):
        control(x, -1, 0)


def test_rubbish_samples_and_report():
    x, _ = batch(n=200)
    fit = rubbish_samples(500, x_train=x, rng=0)
    np.testing.assert_allclose(fit.mean(axis=0), x.mean(axis=0), atol=0.05)
    normal = rubbish_samples(500, source="standard-normal", x_train=x, rng=0)
    assert abs(normal.std() - 1) < 0.05
    model = SoftmaxRegression(12, 4, rng=0)
    model.params["W"] *= 100
    report = rubbish_report(model, normal, eps=0.5, target=2)
    assert 0 <= report["fooled_rate"] <= 1 and sum(report["class_histogram"]) == round(
        report["fooled_rate"] * 500)
    assert report["target_rate"] >= np.mean(model.predict(normal) == 2)
    rbf = RBFNetwork(12, 4, gamma_init=3.0)
    assert rubbish_report(rbf, normal)["fooled_rate"] == 0.0   # far from every centre
    with pytest.raises(ValueError, match="source must be one of"):
        rubbish_samples(3, source="uniform", x_train=x, rng=0)
    with pytest.raises(ValueError, match="eps and target go together"):
        rubbish_report(model, normal, eps=0.1)


def test_transfer_counts():
    source = small_maxout()
    x, y = batch(n=50)
    out = transfer(source, {"self": source, "other": SoftmaxRegression(12, 4, rng=3)}, x, y,
                   0.5)
    me = out["targets"]["self"]
    assert me["error"] == out["source_error"]
    assert me["same_class_on_source_mistakes"] == 1.0 or me["n_source_wrong"] == 0
    other = out["targets"]["other"]
    assert 0 <= other["same_class_on_both_wrong"] <= 1


def test_logit_path_is_linear_for_a_linear_model():
    model = SoftmaxRegression(12, 4, rng=1)
    x, y = batch(n=3)
    direction = np.sign(fgsm(model, x, 1.0, y=y, clip=None) - x)
    eps = np.linspace(-1, 1, 9)
    path = logit_path(model, x, direction, eps)
    second_difference = path[2:] - 2 * path[1:-1] + path[:-2]
    np.testing.assert_allclose(second_difference, 0, atol=1e-12)


def test_cross_section_and_plane():
    model = small_maxout()
    x, y = batch(n=1)
    d1, d2 = fgsm_plane(model, x[0], y[0], rng=0)
    assert abs(d1 @ d2) < 1e-9 and np.isclose(d1 @ d1, d2 @ d2)
    classes, grid = cross_section(model, x[0], d1, d2, extent=1.0, steps=11)
    assert classes.shape == (11, 11) and grid[5] == 0
    assert classes[5, 5] == model.predict(x)[0]


def test_adversarial_subspace_counts_in_range():
    model = small_maxout()
    x, y = batch(n=5)
    counts = adversarial_subspace(model, x, y, eps=2.0, k=4, clip=(0, 1))
    assert counts.shape == (5,) and counts.min() >= 0 and counts.max() <= 4
    assert adversarial_subspace(model, x, y, eps=0.0, k=4).sum() == np.sum(
        model.predict(x) != y) * 4
    with pytest.raises(ValueError, match="k must be at most"):
        adversarial_subspace(model, x, y, 1.0, 13)
