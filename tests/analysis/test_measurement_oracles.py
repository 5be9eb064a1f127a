"""The measurements and training pieces against hand-computed values.

Stub models with fixed probabilities make every count a hand count; linear models
give closed forms; generators are replayed to redraw the same numbers.
"""

import math
import warnings

import numpy as np
import pytest

from advref.analysis.geometry import (
    adversarial_subspace,
    cross_section,
    fgsm_plane,
    logit_path,
)
from advref.analysis.metrics import error_rate, evaluate
from advref.analysis.transferability import transfer
from advref.attacks.fast_gradient import fgsm, optimize_linear
from advref.attacks.rubbish import rubbish_report, rubbish_samples
from advref.fitting.spec import Objective
from advref.models import LogisticRegression, SoftmaxRegression
from advref.training.max_norm import limit_column_norms
from advref.training.momentum import block_rows, momentum_update
from advref.training.monitors import resolve_monitor
from advref.training.objectives import noise, objective_value
from tests.stubs import FixedModel


def test_evaluate_by_hand_and_nan_without_a_warning_when_nothing_is_wrong():
    model = FixedModel([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.25, 0.5, 0.25], [0.9, 0.05, 0.05]])
    x = np.zeros((4, 2))
    got = evaluate(model, x, np.array([0, 1, 1, 2]))
    assert got == {"n": 4, "error": 0.5, "mean_confidence": (0.7 + 0.6 + 0.5 + 0.9) / 4,
                   "mean_confidence_on_mistakes": (0.6 + 0.9) / 2}
    assert error_rate(model, x, np.array([0, 1, 1, 2])) == 0.5
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clean = evaluate(model, x, np.array([0, 2, 1, 0]))
    assert clean["error"] == 0.0 and math.isnan(clean["mean_confidence_on_mistakes"])


def test_rubbish_report_counts_by_hand_with_a_strict_threshold():
    model = FixedModel([[0.5, 0.5, 0.0, 0.0], [0.2, 0.7, 0.1, 0.0], [0.05, 0.05, 0.0, 0.9],
                        [0.4, 0.3, 0.3, 0.0], [0.1, 0.6, 0.3, 0.0]])
    report = rubbish_report(model, np.zeros((5, 2)))
    # p = .5 exactly is not "> .5"; fooled: rows 1 (class 1), 2 (class 3), 4 (class 1)
    assert report == {"n": 5, "threshold": 0.5, "fooled_rate": 0.6,
                      "mean_confidence_fooled": (0.7 + 0.9 + 0.6) / 3,
                      "class_histogram": [0, 2, 0, 1]}
    low = rubbish_report(model, np.zeros((5, 2)), threshold=0.35)
    assert low["fooled_rate"] == 1.0 and low["class_histogram"] == [2, 2, 0, 1]
    none = rubbish_report(FixedModel([[0.5, 0.5, 0.0]]), np.zeros((1, 2)))
    assert none["class_histogram"] == [0, 0, 0] and math.isnan(none["mean_confidence_fooled"])


def test_a_targeted_step_on_rubbish_by_hand():
    """Softmax regression, W = I: one targeted sign step of .3 toward class 1 from
    (.5, .4) gives (.2, .7), whose argmax is 1; from (.9, .1) it gives (.6, .4)."""
    model = SoftmaxRegression(2, 2, init_scale=0.0)
    model.params["W"][:] = np.eye(2)
    report = rubbish_report(model, np.array([[0.5, 0.4], [0.9, 0.1]]), eps=0.3, target=1)
    assert report["target_rate"] == 0.5 and report["eps"] == 0.3 and report["target"] == 1
    p = np.exp([0.2, 0.7]) / np.exp([0.2, 0.7]).sum()
    assert report["after_step"]["class_histogram"] == [1, 1]
    q = np.exp([0.6, 0.4]) / np.exp([0.6, 0.4]).sum()
    assert report["after_step"]["mean_confidence_fooled"] == pytest.approx(
        (p[1] + q[0]) / 2, rel=1e-14)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rubbish_samples_fit_each_pixels_mean_and_spread(dtype):
    x = np.array([[0.0, 1.0, 2.0], [2.0, 1.0, 6.0]], dtype)
    got = rubbish_samples(4, x_train=x, rng=7)
    noise = np.random.default_rng(7).standard_normal((4, 3))
    # mean (1, 1, 4), population std (1, 0, 2)
    np.testing.assert_allclose(got, (np.array([1.0, 1.0, 4.0]) + np.array([1.0, 0, 2]) * noise)
                               .astype(dtype), rtol=1e-6 if dtype == np.float32 else 1e-15)
    assert got.dtype == dtype
    plain = rubbish_samples(4, source="standard-normal", x_train=x, rng=7, dtype=np.float64)
    np.testing.assert_array_equal(plain, noise)
    assert rubbish_samples(2, x_train=x, rng=0, dtype=np.float32).dtype == np.float32
    assert rubbish_samples(2, source="standard-normal", x_train=x, rng=0).dtype == dtype


def test_l2_steps_in_one_batch_are_scaled_row_by_row():
    """Rows of size 1e-300 and 1e300 side by side: each step is eps (3, 4)/5 exactly."""
    grad = np.array([[3e-300, 4e-300], [3e300, 4e300], [0.0, 0.0], [-3.0, 4.0]])
    step = optimize_linear(grad, 0.5, norm=2)
    np.testing.assert_allclose(step, [[0.3, 0.4], [0.3, 0.4], [0, 0], [-0.3, 0.4]], rtol=1e-15)
    step1 = optimize_linear(np.array([[1e-300, -3e-300], [5.0, 5.0]]), 0.5, norm=1)
    np.testing.assert_array_equal(step1, [[0, -0.5], [0.25, 0.25]])


def test_transfer_by_hand_with_clipping_that_matters():
    """Source W = I, label 1: FGSM .3 moves (.9, .95) to (1.2, .65) unclipped or
    (1, .65) clipped; the source says 0 for both. A target that says 0 iff x_0 > 1
    agrees with the source only on the unclipped example."""
    source = SoftmaxRegression(2, 2, init_scale=0.0)
    source.params["W"][:] = np.eye(2)

    class Edge:
        n_classes = 2

        def predict(self, x):
            return (x[:, 0] <= 1.0).astype(np.int64)

        def predict_proba(self, x):
            return np.eye(2)[self.predict(x)]

    x, y = np.array([[0.9, 0.95]]), np.array([1])
    clipped = transfer(source, {"edge": Edge()}, x, y, 0.3)
    assert clipped == {"source_error": 1.0, "eps": 0.3, "targets": {"edge": {
        "error": 0.0, "same_class_on_source_mistakes": 0.0, "same_class_on_both_wrong": 0.0,
        "n_source_wrong": 1, "n_both_wrong": 0}}}
    free = transfer(source, [Edge()], x, y, 0.3, clip=None)
    assert free["targets"] == {"target0": {
        "error": 1.0, "same_class_on_source_mistakes": 1.0, "same_class_on_both_wrong": 1.0,
        "n_source_wrong": 1, "n_both_wrong": 1}}


def test_objectives_by_name_are_the_named_mixtures():
    """Value of each named objective on softmax regression with W = 0 (every class
    at probability 1/k, whatever x): log k for every mixture; and the adversarial
    one's x_adv respects its clip and eps through fgsm."""
    model = SoftmaxRegression(2, 3, init_scale=0.0)
    x, y = np.array([[0.5, 0.5]]), np.array([0])
    assert Objective().build() is None and Objective("clean").build() is None
    for kind in ("adversarial", "noise-sign", "noise-uniform"):
        loss, _ = Objective(kind, eps=0.1, alpha=0.3).build()(model, x, y, np.random.default_rng(0))
        assert loss == pytest.approx(math.log(3), rel=1e-15)
    model.params["W"][:] = [[1.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    # adversarial, alpha .3, eps .2: x_adv = (.3, .7); loss by hand
    loss, _ = Objective("adversarial", eps=0.2, alpha=0.3).build()(model, x, y, None)

    def ce(x0):
        return math.log(math.exp(x0) + 2) - x0
    assert loss == pytest.approx(0.3 * ce(0.5) + 0.7 * ce(0.3), rel=1e-14)
    # the noise kinds: the registry passes kind, eps, alpha and clip through
    for kind in ("sign", "uniform"):
        named = Objective(f"noise-{kind}", eps=0.2, alpha=0.3, clip=(0.0, 0.55)).build()
        direct = noise(kind, eps=0.2, alpha=0.3, clip=(0.0, 0.55))
        got = named(model, x, y, np.random.default_rng(1))
        want = direct(model, x, y, np.random.default_rng(1))
        assert got[0] == want[0] and got[0] != pytest.approx(ce(0.5))
        for k in want[1]:
            np.testing.assert_array_equal(got[1][k], want[1][k])


def test_monitors_by_name():
    model = SoftmaxRegression(2, 2, init_scale=0.0)
    model.params["W"][:] = np.eye(2)
    x, y = np.array([[0.45, 0.55], [0.2, 0.8]]), np.array([1, 1])
    mine = resolve_monitor(lambda m, xx, yy: 0.125, 0.25)
    assert mine(model, x, y) == 0.125
    assert resolve_monitor("clean", 0.25)(model, x, y) == 0.0
    # FGSM .1 flips the first example only ((.55, .45)); .4 flips both
    assert resolve_monitor("adversarial", 0.1)(model, x, y) == 0.5
    assert resolve_monitor("adversarial", 0.4)(model, x, y) == 1.0


def test_momentum_on_a_scalar_and_block_sizes_by_hand():
    p, v, g = np.array(1.0), np.array(0.5), np.array(2.0)
    momentum_update(p, v, g, 0.5, 0.25)
    assert (float(v), float(p)) == (0.5 * 0.5 - 0.25 * 2.0, 1.0 - 0.25)
    assert block_rows(np.zeros((10, 4)), 100) == 3        # rows of 32 bytes
    assert block_rows(np.zeros(7), 100) == 12              # 1-D: rows of one value
    assert block_rows(np.zeros((1, 5)), 100) == 2          # one row of 40 bytes
    assert block_rows(np.zeros((3, 4)), 10) == 1           # at least one row
    assert block_rows(np.zeros((3, 4), np.float32)) == 128 * 1024 // 16


def test_float32_momentum_rounds_like_float32_arithmetic():
    rng = np.random.default_rng(0)
    p, v, g = (rng.standard_normal((300, 7)).astype(np.float32) for _ in range(3))
    mu, step = np.float32(0.7), np.float32(0.1)
    v_hand = (mu * v - step * g).astype(np.float32)
    p_hand = p + v_hand
    momentum_update(p, v, g, 0.7, 0.1, block_bytes=256)
    np.testing.assert_array_equal(v, v_hand)
    np.testing.assert_array_equal(p, p_hand)


@pytest.mark.parametrize("columns", [2, 40])
def test_max_norm_in_float32_uses_a_float32_factor(columns):
    W = np.tile(np.array([[3.0], [4.0]], np.float32), (1, columns))
    W[:, 0] = [0.3, 0.4]                   # norm .5: left alone
    limit_column_norms(W, 1.9365)
    factor = np.float32(1.9365) / np.float32(5.0)
    np.testing.assert_array_equal(W[:, 1:], np.tile(np.array([[3.0], [4.0]], np.float32) *
                                                    factor, (1, columns - 1)))
    np.testing.assert_array_equal(W[:, 0], np.array([0.3, 0.4], np.float32))


def test_adversarial_subspace_on_a_linear_model_in_closed_form():
    """Logistic regression w = (1, 0, 0, 0), b = 0: the k directions are orthonormal,
    each with r.w = eps ||w|| / sqrt(k) = eps / sqrt(k) toward the other class, so all
    k flip an example of margin m < eps / sqrt(k) and none flip one of larger margin."""
    model = LogisticRegression(4, init_scale=0.0)
    model.params["W"][:, 0] = [1.0, 0.0, 0.0, 0.0]
    x = np.array([[0.2, 0.5, 0.5, 0.5], [0.3, 0.5, 0.5, 0.5], [-0.2, 0.5, 0.5, 0.5]])
    y = np.array([1, 1, 0])
    # eps .5, k 4: each direction moves the score by .25 against the label
    np.testing.assert_array_equal(adversarial_subspace(model, x, y, 0.5, 4), [4, 0, 4])
    np.testing.assert_array_equal(adversarial_subspace(model, x, y, 0.5, 1), [1, 1, 1])
    # a clip box whose floor is .2 stops the label-1 examples' first coordinate there
    np.testing.assert_array_equal(adversarial_subspace(model, x[:2], y[:2], 0.5, 4,
                                                       clip=(0.2, 1.0)), [0, 0])
    np.testing.assert_array_equal(adversarial_subspace(model, x[:2], y[:2], 0.5, 4,
                                                       clip=(-1.0, 1.0)), [4, 0])
    zero = LogisticRegression(4, init_scale=0.0)
    assert adversarial_subspace(zero, x, y, 0.5, 4).tolist() == [0, 0, 0]


def test_geometry_planes_and_paths_by_hand():
    model = SoftmaxRegression(2, 2, init_scale=0.0)
    model.params["W"][:] = np.eye(2)
    x = np.array([[0.5, 0.25]])
    path = logit_path(model, x, [1.0, -1.0], [0.0, 0.5, 2.0])
    np.testing.assert_array_equal(path[:, 0], [[0.5, 0.25], [1.0, -0.25], [2.5, -1.75]])
    d1, d2 = fgsm_plane(model, x[0], 1, rng=0)
    np.testing.assert_array_equal(d1, [1.0, -1.0])   # the loss rises with x_0
    assert d1 @ d2 == 0 and d2 @ d2 == pytest.approx(2.0, rel=1e-15)
    classes, grid = cross_section(model, x[0], np.array([1.0, 0.0]), np.array([0.0, 1.0]),
                                  1.0, 3)
    np.testing.assert_array_equal(grid, [-1.0, 0.0, 1.0])
    # row i is b (moves x_1), column j is a (moves x_0): class 1 iff b - a > .25
    np.testing.assert_array_equal(classes, [[0, 0, 0], [1, 0, 0], [1, 1, 0]])
    f32 = cross_section(SoftmaxRegression(2, 2, dtype=np.float32), x[0].astype(np.float32),
                        np.ones(2), np.ones(2), 1.0, 2)[1]
    assert f32.dtype == np.float32


def test_fgsm_with_labels_needs_only_loss_grad_and_names_predict_otherwise():
    class Grad:
        def loss_grad(self, x, y):
            return np.zeros(len(x)), np.where(y[:, None] == 0, 1.0, -1.0) * np.ones_like(x)

    got = fgsm(Grad(), np.full((2, 2), 0.5), 0.25, y=np.array([0, 1]))
    np.testing.assert_array_equal(got, [[0.75, 0.75], [0.25, 0.25]])


def test_objective_value_by_hand_for_models_with_and_without_mean_loss():
    from advref.training.objectives import clean_objective, objective_value

    model = SoftmaxRegression(2, 3, init_scale=1.0, rng=4)

    class OnlyLossAndGrads:
        def loss_and_grads(self, x, y, *, train=False, rng=None):
            return model.loss_and_grads(x, y, train=train, rng=rng)

    x = np.random.default_rng(0).random((7, 2))
    y = np.array([0, 1, 2, 2, 1, 0, 1])
    z = x @ model.params["W"] + model.params["b"]
    by_hand = float(np.mean([math.log(math.fsum(math.exp(v) for v in row)) - row[c]
                             for row, c in zip(z.tolist(), y, strict=True)]))
    for m in (model, OnlyLossAndGrads()):
        for batch in (3, 1000):
            got = objective_value(clean_objective, m, x, y, None, batch_size=batch)
            assert got == pytest.approx(by_hand, rel=1e-14)


def test_objective_value_passes_the_generator_to_a_plain_objective():
    """An objective without .value: its value is objective(...)[0] with the same draws."""
    from advref.models import MaxoutMLP
    from advref.training.objectives import objective_value

    model = MaxoutMLP(3, 2, units=(4,), pieces=2, irange=0.5, rng=0)
    x = np.random.default_rng(1).random((5, 3))
    y = np.array([0, 1, 1, 0, 1])

    def plain(m, xb, yb, rng):
        loss, grads = m.loss_and_grads(xb, yb, train=True, rng=rng)
        return 2 * loss, grads

    got = objective_value(plain, model, x, y, np.random.default_rng(8))
    want = model.loss_and_grads(x, y, train=True, rng=np.random.default_rng(8))[0]
    assert got == 2 * want
    assert want != model.loss_and_grads(x, y)[0]      # dropout made a difference


def ce_first_column(s):
    """Cross-entropy for label 1 of softmax((s, 0, 0)): log(e^s + 2)."""
    return math.log(math.exp(s) + 2)


def first_column_model(rows):
    model = SoftmaxRegression(2, 3, init_scale=0.0)
    model.params["W"][:, 0] = rows          # z_0 = rows . x, z_1 = z_2 = 0
    return model


def test_the_adversarial_objective_by_hand_defaults_clip_and_norm():
    from advref.training.objectives import adversarial

    model, y = first_column_model([1.0, 0.0]), np.array([1])
    x = np.array([[0.9, 0.5]])          # FGSM raises x_0: .9 + .25 = 1.15, clipped to 1
    loss, _ = adversarial()(model, x, y, None)
    assert loss == pytest.approx(0.5 * ce_first_column(0.9) + 0.5 * ce_first_column(1.0),
                                 rel=1e-14)
    loss, _ = Objective("adversarial").build()(model, x, y, None)
    assert loss == pytest.approx(0.5 * ce_first_column(0.9) + 0.5 * ce_first_column(1.0),
                                 rel=1e-14)
    loss, _ = Objective("adversarial", clip=None).build()(model, x, y, None)
    assert loss == pytest.approx(0.5 * ce_first_column(0.9) + 0.5 * ce_first_column(1.15),
                                 rel=1e-14)
    loss, _ = Objective("adversarial", eps=0.05, alpha=0.25).build()(model, x, y, None)
    assert loss == pytest.approx(0.25 * ce_first_column(0.9) + 0.75 * ce_first_column(0.95),
                                 rel=1e-14)
    both = first_column_model([1.0, 1.0])   # the gradient is along (1, 1)
    x = np.array([[0.3, 0.2]])
    linf, _ = adversarial()(both, x, y, None)
    l2, _ = adversarial(norm=2)(both, x, y, None)
    assert linf == pytest.approx(0.5 * ce_first_column(0.5) + 0.5 * ce_first_column(1.0),
                                 rel=1e-14)
    assert l2 == pytest.approx(0.5 * ce_first_column(0.5) + 0.5 * ce_first_column(
        0.5 + 0.5 / math.sqrt(2)), rel=1e-14)


@pytest.mark.parametrize("clip", [(0.0, 1.0), None, (0.0, 0.6)])
def test_the_noise_objectives_by_hand_with_the_generators_draws(clip):
    model, y = first_column_model([1.0, 0.0]), np.array([1])
    x = np.array([[0.5, 0.5]])
    draws = {"sign": np.random.default_rng(5).choice(np.array([-1.0, 1.0]), (1, 2)),
             "uniform": np.random.default_rng(5).uniform(-1.0, 1.0, (1, 2))}
    for kind, draw in draws.items():
        moved = x[0, 0] + 0.25 * draw[0, 0]
        if clip is not None:
            moved = min(max(moved, clip[0]), clip[1])
        if clip == (0.0, 1.0):
            obj = noise() if kind == "sign" else noise(kind)
        elif clip is None:
            obj = Objective(f"noise-{kind}", clip=None).build()
        else:
            obj = noise(kind, clip=clip)
        loss, _ = obj(model, x, y, np.random.default_rng(5))
        want = 0.5 * ce_first_column(0.5) + 0.5 * ce_first_column(moved)
        assert loss == pytest.approx(want, rel=1e-14)
        value = objective_value(obj, model, x, y, np.random.default_rng(5))
        assert value == pytest.approx(want, rel=1e-14)


def test_the_adversarial_monitor_defaults_to_eps_a_quarter():
    from advref.training.monitors import adversarial_error

    model = SoftmaxRegression(2, 2, init_scale=0.0)
    model.params["W"][:] = np.eye(2)
    x, y = np.array([[0.1, 0.9]]), np.array([1])     # .25 leaves it right; 1.25 does not
    assert adversarial_error()(model, x, y) == 0.0
    assert adversarial_error(1.25)(model, x, y) == 1.0


def test_logit_paths_scale_the_direction_and_keep_the_dtype():
    model = SoftmaxRegression(2, 2, init_scale=0.0, dtype=np.float32)
    model.params["W"][:] = np.eye(2, dtype=np.float32)
    x = np.array([[0.5, 0.25]], np.float32)
    path = logit_path(model, x, [2.0, -0.5], [[0.0, 0.5], [2.0, 4.0]])
    assert path.dtype == np.float32 and path.shape == (4, 1, 2)
    np.testing.assert_array_equal(path[:, 0], [[0.5, 0.25], [1.5, 0.0], [4.5, -0.75],
                                               [8.5, -1.75]])


def test_the_fgsm_plane_by_hand():
    model = SoftmaxRegression(3, 2, init_scale=0.0)
    model.params["W"][:] = [[1.0, -1.0], [0.0, 0.0], [2.0, 0.0]]
    d1, d2 = fgsm_plane(model, np.array([0.5, 0.5, 0.5]), 1, rng=3)
    np.testing.assert_array_equal(d1, [1.0, 0.0, 1.0])        # the loss of label 1 rises with z_0
    signs = np.random.default_rng(3).choice(np.array([-1.0, 1.0]), 3)
    by_hand = signs - (signs @ d1) / 2 * d1
    by_hand *= math.sqrt(2) / np.linalg.norm(by_hand)
    np.testing.assert_allclose(d2, by_hand, rtol=1e-15)
    one = SoftmaxRegression(2, 2, init_scale=0.0)
    one.params["W"][:] = [[1.0, -1.0], [0.0, 0.0]]            # one nonzero sign
    d1, d2 = fgsm_plane(one, np.array([0.5, 0.5]), 0, rng=3)
    np.testing.assert_array_equal(d1, [-1.0, 0.0])
    assert d2[0] == 0.0 and abs(d2[1]) == 1.0
    flat = SoftmaxRegression(2, 2, init_scale=0.0)            # no gradient at all
    d1, d2 = fgsm_plane(flat, np.array([0.5, 0.5]), 0, rng=3)
    np.testing.assert_array_equal(d1, [0.0, 0.0])
    np.testing.assert_array_equal(d2, np.random.default_rng(3).choice(np.array([-1.0, 1.0]),
                                                                        2))


def test_adversarial_subspace_counts_every_row_and_clips_above():
    model = LogisticRegression(4, init_scale=0.0, dtype=np.float32)
    model.params["W"][:, 0] = [1.0, 0.0, 0.0, 0.0]
    # row 0's margin 800 saturates the sigmoid: its gradient is exactly zero
    x = np.array([[800.0, 0, 0, 0], [0.2, 0.5, 0.5, 0.5], [-0.2, 0.5, 0.5, 0.5]], np.float32)
    y = np.array([1, 1, 0])
    counts = adversarial_subspace(model, x, y, 0.5, 4)
    assert counts.dtype == np.int64
    np.testing.assert_array_equal(counts, [0, 4, 4])
    # the label-0 row moves up by .25 to .05; a ceiling of 0 keeps its score at 0 (class 0)
    np.testing.assert_array_equal(adversarial_subspace(model, x[2:], y[2:], 0.5, 4,
                                                       clip=(-1.0, 0.0)), [0])


def test_the_closed_form_objective_by_hand_in_float32_with_its_default_eps():
    from advref.training.closed_form_logistic import adversarial_logistic

    model = LogisticRegression(2, init_scale=0.0, dtype=np.float32)
    model.params["W"][:, 0] = [0.5, -1.0]
    x = np.array([[0.25, 0.5], [1.0, 0.0]], np.float32)
    y = np.array([1, 0])
    loss, grads = adversarial_logistic()(model, x, y, None)
    # t = -s (w.x) + .25 * ||w||_1: row 0: .375 + .375 = .75; row 1: .5 + .375 = .875
    by_hand = (math.log1p(math.exp(0.75)) + math.log1p(math.exp(0.875))) / 2
    assert loss == pytest.approx(by_hand, rel=1e-6)
    assert loss.dtype == np.float32 and grads["W"].dtype == np.float32


def test_rubbish_target_rate_counts_the_samples_that_reach_the_target():
    """W = I, target 1, eps .3: (.5, .4) -> (.2, .7) reaches it; (.9, .1) -> (.6, .4)
    and (.8, 0) -> (.5, .3) do not."""
    model = SoftmaxRegression(2, 2, init_scale=0.0)
    model.params["W"][:] = np.eye(2)
    report = rubbish_report(model, np.array([[0.5, 0.4], [0.9, 0.1], [0.8, 0.0]]), eps=0.3,
                            target=1)
    assert report["target_rate"] == pytest.approx(1 / 3, rel=1e-15)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nobody = rubbish_report(FixedModel([[0.5, 0.5]]), np.zeros((1, 2)))
    assert math.isnan(nobody["mean_confidence_fooled"])


def test_transfer_to_a_target_that_only_has_predict_proba_for_its_class_count():
    source = SoftmaxRegression(2, 3, init_scale=1.0)

    class Plain:
        def predict_proba(self, x):
            return np.tile([0.2, 0.3, 0.5], (len(x), 1))

        def predict(self, x):
            return np.full(len(x), 2)

    out = transfer(source, {"plain": Plain()}, np.full((2, 2), 0.5), np.array([2, 0]), 0.1)
    assert out["targets"]["plain"]["error"] == 0.5


def test_random_completions_default_to_seed_0():
    from advref.models import MaxoutMLP
    from advref.training.virtual_adversarial import virtual_adversarial_perturbation

    model = MaxoutMLP(6, 3, units=(8,), pieces=2, irange=1.0, rng=3)
    x = np.random.default_rng(0).random((5, 6))
    y = np.array([0, 1, 2, 0, 1])
    r0, _ = virtual_adversarial_perturbation(model, x, eps=1.0, rng=0)
    np.testing.assert_array_equal(virtual_adversarial_perturbation(model, x, eps=1.0)[0], r0)
    assert not np.array_equal(virtual_adversarial_perturbation(model, x, eps=1.0, rng=1)[0], r0)
    counts = [adversarial_subspace(model, x, y, 2.0, 4, rng=seed) for seed in (0, 1, 2)]
    np.testing.assert_array_equal(adversarial_subspace(model, x, y, 2.0, 4), counts[0])
    assert not all(np.array_equal(c, counts[0]) for c in counts[1:])
