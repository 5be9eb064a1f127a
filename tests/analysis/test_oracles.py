"""Independent oracles for the measurements: stub models with fixed outputs,
brute-force counts, exact fractions and closed forms (issue 13's mutants)."""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from advref import cross_section, evaluate, optimize_linear, transfer
from advref.analysis.geometry import gaas_directions
from advref.models import SoftmaxRegression
from advref.training.monitors import adversarial_error
from advref.training.objectives import noise
from tests.stubs import FixedModel


def test_evaluate_confidence_on_mistakes_is_averaged_over_the_mistakes_only():
    proba = np.array([[0.75, 0.25], [0.5, 0.5], [0.125, 0.875], [0.25, 0.75]])
    pred = proba.argmax(1)                     # 0, 0 (tie: first), 1, 1
    y = np.array([0, 1, 0, 1])                 # mistakes: rows 1 and 2
    got = evaluate(FixedModel(proba, pred, n_classes=3), np.zeros((4, 3)), y)
    assert got["error"] == 0.5
    assert got["mean_confidence"] == float((Fraction(3, 4) + Fraction(1, 2) + Fraction(7, 8)
                                            + Fraction(3, 4)) / 4)
    assert got["mean_confidence_on_mistakes"] == float((Fraction(1, 2) + Fraction(7, 8)) / 2)


def test_transfer_counts_by_brute_force():
    y = np.array([0, 1, 2, 0, 1, 2, 0, 1])
    src = np.array([1, 1, 0, 2, 0, 2, 1, 2])   # wrong on 0, 2, 3, 4, 6, 7
    tgt = np.array([1, 0, 0, 1, 0, 2, 0, 2])   # wrong on 0, 1, 2, 3, 4, 7
    out = transfer(FixedModel(pred=src), {"t": FixedModel(pred=tgt)}, np.zeros((8, 3)), y, 0.1,
                   clip=None)["targets"]["t"]
    src_wrong = [i for i in range(8) if src[i] != y[i]]
    both = [i for i in src_wrong if tgt[i] != y[i]]
    same = [i for i in both if tgt[i] == src[i]]
    assert (len(src_wrong), len(both), len(same)) == (6, 5, 4)  # by hand: 3 differs
    assert out["error"] == 6 / 8
    assert out["same_class_on_source_mistakes"] == 4 / 6
    assert out["same_class_on_both_wrong"] == 4 / 5
    assert out["n_both_wrong"] == len(both) and out["n_source_wrong"] == len(src_wrong)
    # one where the two denominators differ
    tgt2 = np.array([1, 1, 0, 0, 0, 2, 1, 2])  # right on 1, 3, 5; wrong on 0, 2, 4, 6, 7
    out2 = transfer(FixedModel(pred=src), [FixedModel(pred=tgt2)], np.zeros((8, 3)), y, 0.1,
                    clip=None)["targets"]["target0"]
    assert out2["same_class_on_both_wrong"] == 5 / 5      # 0, 2, 4, 6, 7 all agree
    assert out2["same_class_on_source_mistakes"] == 5 / 6


@given(k=st.integers(1, 12), seed=st.integers(0, 1000))
def test_gaas_directions_are_orthonormal_and_equally_aligned(k, seed):
    rng = np.random.default_rng(seed)
    g = rng.standard_normal(16)
    r = gaas_directions(g, k, np.random.default_rng(seed + 1))
    np.testing.assert_allclose(r @ r.T, np.eye(k), atol=1e-12)
    np.testing.assert_allclose(r @ (g / np.linalg.norm(g)), np.full(k, 1 / np.sqrt(k)),
                               atol=1e-12)


class Quadrant:
    """Class 2*[b > 0] + [a > 0] for points a*e0 + b*e1."""

    def predict(self, x):
        return (2 * (x[:, 1] > 0) + (x[:, 0] > 0)).astype(int)


def test_cross_section_rows_are_b_and_columns_are_a():
    e0, e1 = np.eye(4)[0], np.eye(4)[1]
    grid_classes, grid = cross_section(Quadrant(), np.zeros(4), e0, 0.5 * e1, 1.0, 5)
    np.testing.assert_array_equal(grid, [-1, -0.5, 0, 0.5, 1])
    expected = [[2 * (0.5 * b > 0) + (a > 0) for a in grid] for b in grid]
    np.testing.assert_array_equal(grid_classes, expected)
    assert grid_classes[0, -1] == 1 and grid_classes[-1, 0] == 2


def softmax_input_gradient(model, x, y):
    """By hand: d(-log softmax(xW + b)[y]) / dx = (softmax - onehot(y)) W^T."""
    W, b = model.params["W"], model.params["b"]
    z = x @ W + b
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    p[np.arange(len(y)), y] -= 1
    return p @ W.T


def softmax_fgsm_by_hand(model, x, y, eps, norm=np.inf):
    g = softmax_input_gradient(model, x, y)
    step = np.sign(g) if norm == np.inf else g / np.linalg.norm(g, axis=1, keepdims=True)
    return np.clip(x + eps * step, 0, 1)


@pytest.fixture
def softmax_and_batch():
    rng = np.random.default_rng(0)
    model = SoftmaxRegression(20, 4, init_scale=1.0, rng=1)
    x = rng.random((200, 20))
    y = model.predict(x)              # clean error 0, so the monitor can only see FGSM
    return model, x, y


def test_adversarial_monitor_measures_the_error_on_fgsm_examples(softmax_and_batch):
    model, x, y = softmax_and_batch
    x_adv = softmax_fgsm_by_hand(model, x, y, 0.1)
    expected = np.mean((x_adv @ model.params["W"] + model.params["b"]).argmax(1) != y)
    assert expected > 0.2
    assert adversarial_error(0.1)(model, x, y) == expected


@pytest.mark.parametrize("kind", ["sign", "uniform"])
def test_noise_objective_trains_on_the_noisy_input(softmax_and_batch, kind):
    model, x, y = softmax_and_batch
    objective = noise(kind, eps=0.3, alpha=0.0, clip=None)
    loss, grads = objective(model, x, y, np.random.default_rng(7))
    # the same draw by hand: sign noise is eps * (+-1), uniform noise U(-eps, eps)
    draw = np.random.default_rng(7)
    if kind == "sign":
        x_noisy = x + 0.3 * draw.choice(np.array([-1.0, 1.0]), size=x.shape)
    else:
        x_noisy = x + draw.uniform(-0.3, 0.3, size=x.shape)
    z = x_noisy @ model.params["W"] + model.params["b"]
    log_p = z - z.max(1, keepdims=True)
    log_p -= np.log(np.exp(log_p).sum(1, keepdims=True))
    assert loss == pytest.approx(-log_p[np.arange(len(y)), y].mean(), rel=1e-12)
    clean = model.mean_loss(x, y)
    assert abs(loss - clean) > 1e-3


def exponent_range(dtype):
    info = np.finfo(dtype)
    low = np.log10(float(info.smallest_subnormal))
    return low, np.log10(float(info.max))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("norm", [np.inf, 2, 1])
def test_norm_bound_holds_across_the_whole_exponent_range(dtype, norm):
    low, high = exponent_range(dtype)
    if dtype == np.float64:
        low, high = -300.0, 300.0
    rng = np.random.default_rng(0)
    eps = 0.25
    tol = 4 * np.finfo(dtype).eps
    for exponent in np.linspace(low, high, 400):
        direction = rng.standard_normal((3, 50))
        g = (direction * 10.0 ** exponent / np.abs(direction).max()).astype(dtype)
        g = np.where(np.isfinite(g), g, np.finfo(dtype).max * np.sign(direction)).astype(dtype)
        step = optimize_linear(g, eps, norm).astype(np.float64)
        lengths = {np.inf: np.abs(step).max(1), 2: np.sqrt((step ** 2).sum(1)),
                   1: np.abs(step).sum(1)}[norm]
        nonzero = np.any(g != 0, axis=1)
        assert np.all(lengths <= eps * (1 + tol)), (exponent, lengths)
        # and the step uses the whole budget wherever the gradient is not zero
        assert np.all(lengths[nonzero] >= eps * (1 - tol)), (exponent, lengths)


def test_l2_step_of_a_subnormal_float32_gradient():
    g = np.zeros((1, 4), np.float32)
    g[0, :2] = np.float32(1e-23), np.float32(-1e-23)      # squares underflow to 0 in float32
    step = optimize_linear(g, 0.25, 2)
    np.testing.assert_allclose(step, [[0.25 / np.sqrt(2), -0.25 / np.sqrt(2), 0, 0]],
                               rtol=1e-6)
    g64 = np.array([[1e-170, 1e-170, 0.0]])
    np.testing.assert_allclose(optimize_linear(g64, 0.25, 2),
                               [[0.25 / np.sqrt(2), 0.25 / np.sqrt(2), 0]], rtol=1e-15)
    huge = np.array([[1e300, -1e300]])
    np.testing.assert_allclose(optimize_linear(huge, 1.0, 2), [[2 ** -0.5, -2 ** -0.5]],
                               rtol=1e-15)


# -- exact arithmetic on dyadic weights and inputs: every float operation below is
#    exact, so the float results must equal the rational ones bit for bit

W_DYADIC = [Fraction(3, 4), Fraction(-1, 2), Fraction(1, 8), Fraction(0), Fraction(-5, 16)]
X_DYADIC = [[Fraction(1, 2), Fraction(1, 4), Fraction(0), Fraction(1), Fraction(3, 8)],
            [Fraction(0), Fraction(7, 8), Fraction(1, 16), Fraction(1, 2), Fraction(1)]]
B_DYADIC = Fraction(-1, 8)


def logistic_with(w, b):
    from advref.models import LogisticRegression

    model = LogisticRegression(len(w))
    model.params["W"][:, 0] = [float(v) for v in w]
    model.params["b"][0] = float(b)
    return model


@pytest.mark.parametrize("label", [0, 1])
def test_fgsm_on_logistic_regression_moves_the_score_by_exactly_eps_l1(label):
    from advref import fgsm

    model = logistic_with(W_DYADIC, B_DYADIC)
    x = np.array([[float(v) for v in row] for row in X_DYADIC])
    eps = Fraction(1, 4)
    y = np.full(2, label)
    x_adv = fgsm(model, x, float(eps), y=y, clip=None)
    l1 = sum(abs(w) for w in W_DYADIC)
    s = 2 * label - 1
    for row, adv in zip(X_DYADIC, x_adv, strict=True):
        # by hand: the loss softplus(-s z) rises fastest along -s sign(w)
        expected = [xi - s * eps * (1 if w > 0 else -1 if w < 0 else 0)
                    for xi, w in zip(row, W_DYADIC, strict=True)]
        assert [Fraction(float(v)) for v in adv] == expected
        score = sum(Fraction(float(v)) * w for v, w in zip(adv, W_DYADIC, strict=True))
        clean = sum(xi * w for xi, w in zip(row, W_DYADIC, strict=True))
        assert score - clean == -s * eps * l1


@pytest.mark.parametrize("label", [0, 1])
def test_adversarial_logistic_loss_on_exact_arguments(label):
    import math

    from advref.training.closed_form_logistic import adversarial_logistic_loss

    model = logistic_with(W_DYADIC, B_DYADIC)
    x = np.array([[float(v) for v in row] for row in X_DYADIC])
    eps = Fraction(1, 8)
    s = 2 * label - 1
    l1 = sum(abs(w) for w in W_DYADIC)
    # t_i = -s (w.x_i + b) + eps ||w||_1, exactly; the loss is the mean softplus(t_i)
    t = [-s * (sum(xi * w for xi, w in zip(row, W_DYADIC, strict=True)) + B_DYADIC)
         + eps * l1 for row in X_DYADIC]
    expected = sum(math.log1p(math.exp(float(ti))) for ti in t) / len(t)
    loss, _ = adversarial_logistic_loss(model, x, np.full(2, label), float(eps))
    assert loss == pytest.approx(expected, rel=1e-15)
    # and it is the clean loss at the unclipped FGSM point
    from advref import fgsm

    x_adv = fgsm(model, x, float(eps), y=np.full(2, label), clip=None)
    assert model.mean_loss(x_adv, np.full(2, label)) == pytest.approx(expected, rel=1e-15)


def test_transfer_uses_true_labels_norm_and_clip_by_hand():
    rng = np.random.default_rng(5)
    source = SoftmaxRegression(20, 4, init_scale=1.0, rng=1)
    target = SoftmaxRegression(20, 4, init_scale=1.0, rng=2)
    x = rng.random((300, 20))
    y = rng.integers(0, 4, 300)              # true labels, unlike the source's predictions
    eps = 0.7
    W, b = source.params["W"], source.params["b"]
    x_adv = softmax_fgsm_by_hand(source, x, y, eps, norm=2)
    src_pred = (x_adv @ W + b).argmax(1)
    tgt_pred = (x_adv @ target.params["W"] + target.params["b"]).argmax(1)
    src_wrong, tgt_wrong = src_pred != y, tgt_pred != y
    both = src_wrong & tgt_wrong
    same = both & (src_pred == tgt_pred)
    out = transfer(source, [target], x, y, eps, norm=2, clip=(0.0, 1.0))
    t = out["targets"]["target0"]
    assert out["source_error"] == src_wrong.mean()
    assert t["error"] == tgt_wrong.mean()
    assert t["same_class_on_both_wrong"] == same.sum() / both.sum()
    assert t["same_class_on_source_mistakes"] == same.sum() / src_wrong.sum()


def test_transfer_with_a_single_example_wrong_for_both():
    y = np.array([0, 1, 2])
    out = transfer(FixedModel(pred=[1, 1, 2]), [FixedModel(pred=[1, 1, 2])], np.zeros((3, 3)),
                   y, 0.1, clip=None)["targets"]["target0"]
    assert out["same_class_on_both_wrong"] == 1.0 and out["same_class_on_source_mistakes"] == 1.0
    none = transfer(FixedModel(pred=[0, 1, 2]), [FixedModel(pred=[1, 1, 2])], np.zeros((3, 3)),
                    y, 0.1, clip=None)["targets"]["target0"]
    assert none["same_class_on_both_wrong"] == 0.0 and none["n_both_wrong"] == 0


def test_objective_value_is_the_training_mode_loss_with_the_given_draws():
    from advref.models import MaxoutMLP
    from advref.training.objectives import clean_objective, objective_value

    rng = np.random.default_rng(0)
    x, y = rng.random((50, 8)), rng.integers(0, 3, 50)
    net = MaxoutMLP(8, 3, units=(6,), pieces=2, irange=0.5, include_probs=(0.8, 0.5),
                    scales=(1.0, 2.0), rng=1)
    got = objective_value(clean_objective, net, x, y, np.random.default_rng(9), batch_size=20)
    draws = np.random.default_rng(9)
    by_batch = [net.loss_and_grads(x[i:i + 20], y[i:i + 20], train=True, rng=draws)[0] * len(
        x[i:i + 20]) for i in range(0, 50, 20)]
    assert got == pytest.approx(sum(by_batch) / 50, rel=1e-12)
    assert got != pytest.approx(net.mean_loss(x, y), rel=1e-3)     # not the eval-mode loss

    class NoMeanLoss:                      # the fallback: a model without mean_loss
        def loss_and_grads(self, xb, yb, *, train=False, rng=None):
            assert train and rng is not None
            return float(xb.mean()), {}          # a mean loss, as the protocol's

    x_rows = np.arange(10.0).reshape(5, 2)      # row means .5, 2.5, 4.5, 6.5, 8.5
    assert objective_value(clean_objective, NoMeanLoss(), x_rows, np.zeros(5, int),
                           np.random.default_rng(0), batch_size=2) == 4.5


def test_adversarial_monitor_attacks_the_true_labels_with_its_norm():
    rng = np.random.default_rng(1)
    model = SoftmaxRegression(20, 4, init_scale=1.0, rng=1)
    x = rng.random((300, 20))
    y = rng.integers(0, 4, 300)            # true labels, mostly not the model's predictions
    x_adv = softmax_fgsm_by_hand(model, x, y, 0.5, norm=2)
    expected = np.mean((x_adv @ model.params["W"] + model.params["b"]).argmax(1) != y)
    assert adversarial_error(0.5, norm=2)(model, x, y) == expected


def test_max_norm_in_float32_matches_a_column_by_column_loop():
    from advref.training.max_norm import limit_column_norms

    rng = np.random.default_rng(2)
    for long_columns in (1, 3, 40):
        W = rng.standard_normal((30, 60)).astype(np.float32) * 0.1
        W[:, :long_columns] *= 100
        expected = W.copy()
        for j in range(60):
            n = np.sqrt(np.einsum("i,i->", W[:, j], W[:, j]))     # float32, as the code
            if n > 1.5:
                expected[:, j] = W[:, j] * np.float32(1.5 / n)
        limit_column_norms(W, 1.5)
        assert W.dtype == np.float32
        np.testing.assert_array_equal(W, expected)


@pytest.mark.parametrize("alpha", [0.0, 0.3, 0.5, 1.0])
def test_adversarial_objective_trains_with_dropout_on_both_terms(alpha):
    from advref import fgsm
    from advref.models import MaxoutMLP
    from advref.training.objectives import adversarial

    rng = np.random.default_rng(4)
    x, y = rng.random((30, 8)), rng.integers(0, 3, 30)
    net = MaxoutMLP(8, 3, units=(6,), pieces=2, irange=0.5, include_probs=(0.8, 0.5),
                    scales=(1.0, 2.0), rng=1)
    objective = adversarial(eps=0.1, alpha=alpha)
    loss, grads = objective(net, x, y, np.random.default_rng(3))
    x_adv = fgsm(net, x, 0.1, y=y)              # made in evaluation mode, held constant
    g = np.random.default_rng(3)                # the same draws, clean term first
    if alpha == 1.0:
        expected = net.loss_and_grads(x, y, train=True, rng=g)
    elif alpha == 0.0:
        expected = net.loss_and_grads(x_adv, y, train=True, rng=g)
    elif alpha == 0.5:
        expected = net.loss_and_grads(np.concatenate([x, x_adv]), np.concatenate([y, y]),
                                      train=True, rng=g)
    else:
        lc, gc = net.loss_and_grads(x, y, train=True, rng=g)
        lo, go = net.loss_and_grads(x_adv, y, train=True, rng=g)
        expected = (alpha * lc + (1 - alpha) * lo,
                    {k: alpha * gc[k] + (1 - alpha) * go[k] for k in gc})
    assert loss == pytest.approx(expected[0], rel=1e-12)
    for k in grads:
        np.testing.assert_allclose(grads[k], expected[1][k], rtol=1e-10, atol=1e-14)
    # dropout is on: the evaluation-mode objective differs
    eval_loss = alpha * net.mean_loss(x, y) + (1 - alpha) * net.mean_loss(x_adv, y)
    assert abs(loss - eval_loss) > 1e-6
    # and objective.value draws the same way without a gradient
    v = objective.value(net, x, y, np.random.default_rng(3))
    g = np.random.default_rng(3)
    parts = []
    if alpha > 0:
        parts.append(alpha * net.mean_loss(x, y, train=True, rng=g))
    if alpha < 1:
        parts.append((1 - alpha) * net.mean_loss(x_adv, y, train=True, rng=g))
    assert v == pytest.approx(sum(parts), rel=1e-12)
