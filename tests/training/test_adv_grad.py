"""adversarial(grad="train"): x_adv from the training loss under its own dropout mask."""

import numpy as np
import pytest

from advref.attacks.fast_gradient import fgsm
from advref.fitting.spec import Objective
from advref.models import MLP, MaxoutMLP, SoftmaxRegression
from advref.models.dropout import bernoulli_keep
from advref.tools.gradient_audit import compare, numeric_gradient
from advref.training.objectives import adversarial, training_mode_fgsm
from advref.training.sgd import train


def tiny_maxout(dtype=np.float64):
    return MaxoutMLP(4, 3, units=(3,), pieces=2, include_probs=(0.8, 0.5), scales=(1.0, 2.0),
                     irange=0.8, rng=1, dtype=dtype)


def hand_input_gradient(model, x, y, gen):
    """d loss_i / d x_i of the tiny maxout, written out layer by layer, with the two
    dropout masks drawn from `gen` in the forward pass's order (input, then hidden)."""
    k0 = bernoulli_keep(gen, x.shape, 0.8)
    u0 = x * k0
    z0 = u0 @ model.params["W0"] + model.params["b0"]
    pieces = z0.reshape(len(x), 2, 3)                 # piece-major: column r*3 + j
    h = pieces.max(axis=1)
    k1 = bernoulli_keep(gen, h.shape, 0.5)
    u1 = h * k1 * 2.0
    s = u1 @ model.params["W1"] + model.params["b1"]
    p = np.exp(s - s.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    ds = p - np.eye(3)[y]
    dh = (ds @ model.params["W1"].T) * k1 * 2.0
    first = pieces.argmax(axis=1)                     # the first maximal piece of each unit
    dz0 = np.zeros_like(pieces)
    rows, units = np.meshgrid(np.arange(len(x)), np.arange(3), indexing="ij")
    dz0[rows, first, units] = dh
    return (dz0.reshape(len(x), 6) @ model.params["W0"].T) * k0


@pytest.mark.parametrize("seed", range(6))
def test_training_mode_x_adv_is_the_sign_of_the_hand_computed_masked_gradient(seed):
    model = tiny_maxout()
    data = np.random.default_rng(100 + seed)
    x, y = data.random((40, 4)), data.integers(0, 3, 40)
    grad = hand_input_gradient(model, x, y, np.random.default_rng(seed))
    assert (grad == 0).any() and (grad != 0).any()   # dropped inputs: sign 0, x unchanged
    x_adv = training_mode_fgsm(model, x, y, np.random.default_rng(seed), 0.1, np.inf, None)
    np.testing.assert_array_equal(x_adv, x + 0.1 * np.sign(grad))
    # the eval-mode x_adv differs: it has no dropped coordinates
    assert not np.array_equal(x_adv, fgsm(model, x, 0.1, y=y, clip=None))


def test_the_objective_draws_the_gradient_mask_first_then_the_terms_masks():
    """With grad="train" the objective is: a mask for x_adv's gradient, then one
    training-mode pass over [x; x_adv] (alpha .5) with masks of its own."""
    model = tiny_maxout()
    data = np.random.default_rng(7)
    x, y = data.random((10, 4)), data.integers(0, 3, 10)
    loss, grads = adversarial(0.2, 0.5, clip=None, grad="train")(
        model, x, y, np.random.default_rng(3))
    gen = np.random.default_rng(3)
    x_adv = x + 0.2 * np.sign(hand_input_gradient(model, x, y, gen))
    want_loss, want = model.loss_and_grads(np.concatenate([x, x_adv]), np.concatenate([y, y]),
                                           train=True, rng=gen)
    assert loss == want_loss
    for k in model.params:
        np.testing.assert_array_equal(grads[k], want[k])


@pytest.mark.parametrize("seed", range(4))
def test_the_dropout_mode_input_gradient_passes_finite_differences(seed):
    """Under a fixed mask (the same seed redraws it), loss_grad(train=True) is the
    gradient of each example's training-mode loss."""
    model = MaxoutMLP(6, 4, units=(5, 4), pieces=3, irange=0.5, rng=seed)
    data = np.random.default_rng(seed)
    x, y = data.random((5, 6)), data.integers(0, 4, 5)
    assert model.kink_distance(x, train=True, rng=seed) > 1e-4

    def total():
        return model.loss_grad(x, y, train=True, rng=seed)[0].sum()

    _, d_x = model.loss_grad(x, y, train=True, rng=seed)
    row = compare("maxout-train", "x", d_x, numeric_gradient(total, x))
    assert row.ok, row


def test_without_dropout_train_mode_equals_eval_mode():
    model = SoftmaxRegression(5, 3, rng=0)
    data = np.random.default_rng(0)
    x, y = data.random((8, 5)), data.integers(0, 3, 8)
    for grad in ("eval", "train"):
        loss, grads = adversarial(0.1, 0.5, grad=grad)(model, x, y, np.random.default_rng(1))
        if grad == "eval":
            first = (loss, grads)
    assert loss == first[0]
    assert all(np.array_equal(grads[k], first[1][k]) for k in grads)


def test_eval_mode_is_fgsm_then_one_stacked_training_pass_bit_for_bit():
    """grad="eval" trains exactly as x_adv = fgsm(eval mode) followed by one training
    pass over [x; x_adv]: whole runs end with the same bits."""
    data = np.random.default_rng(2)
    x, y = data.random((300, 8)).astype(np.float32), data.integers(0, 3, 300)

    def by_hand(model, xb, yb, rng):
        x_adv = fgsm(model, xb, 0.2, y=yb)
        return model.loss_and_grads(np.concatenate([xb, x_adv]), np.concatenate([yb, yb]),
                                    train=True, rng=rng)

    runs = []
    for objective in (adversarial(0.2, 0.5), Objective("adversarial", eps=0.2).build(),
                      by_hand):
        model = MaxoutMLP(8, 3, units=(6,), pieces=2, irange=0.3, rng=0, dtype=np.float32)
        train(model, x, y, epochs=2, batch_size=50, objective=objective, rng=4, log=None)
        runs.append(model.params)
    for params in runs[1:]:
        assert all(np.array_equal(params[k], runs[0][k]) for k in params)


def test_bad_modes_are_refused_before_any_work():
    with pytest.raises(ValueError, match=r"grad .* must be one of eval, train, got 'test'"):
        adversarial(grad="test")
    with pytest.raises(ValueError, match="adv_grad=.train. with objective 'noise-sign'"):
        Objective("noise-sign", adv_grad="train")
    with pytest.raises(ValueError, match="adv_grad=.train. with objective 'clean'"):
        Objective("clean", adv_grad="train")

    class Plain:
        """A user's model whose loss_grad has no training mode."""
        params = {}

        def loss_grad(self, x, y):
            raise AssertionError("must not be called")

        def predict(self, x):
            return np.zeros(len(x), np.int64)

    with pytest.raises(TypeError) as refused:
        training_mode_fgsm(Plain(), np.zeros((2, 3)), np.zeros(2, np.int64), None, 0.1,
                           np.inf, None)
    assert str(refused.value) == ("adversarial(grad='train') needs model.loss_grad(x, y, "
                                  "train=True, rng=rng), got a Plain whose loss_grad takes no "
                                  "train argument instead.")

    class Keywords(Plain):
        def loss_grad(self, x, y, **options):
            return np.zeros(len(x)), np.ones_like(x) * options["train"]

    got = training_mode_fgsm(Keywords(), np.zeros((2, 3)), np.zeros(2, np.int64), None, 0.1,
                             np.inf, (0.0, 1.0))
    assert np.array_equal(got, np.full((2, 3), 0.1))        # train=True reached the model
    with pytest.raises(TypeError) as refused:
        training_mode_fgsm(object(), np.zeros((2, 3)), np.zeros(2, np.int64), None, 0.1,
                           np.inf, None)
    assert str(refused.value).startswith("adversarial training needs a model with loss_grad")
    with pytest.raises(ValueError, match="^y must"):
        training_mode_fgsm(Keywords(), np.zeros((2, 3)), np.zeros(3, np.int64), None, 0.1,
                           np.inf, None)


def test_training_mode_mlp_relu_gradient_masks_the_input():
    """An MLP with input dropout: coordinates its mask drops keep x unchanged."""
    model = MLP(6, 3, hidden=(5,), activation="relu", include_probs=(0.5, 1.0), rng=0)
    data = np.random.default_rng(9)
    x, y = data.random((30, 6)), data.integers(0, 3, 30)
    keep = bernoulli_keep(np.random.default_rng(5), x.shape, 0.5)
    x_adv = training_mode_fgsm(model, x, y, np.random.default_rng(5), 0.3, np.inf, None)
    assert np.array_equal(x_adv[~keep], x[~keep])
    assert (x_adv[keep] != x[keep]).mean() > 0.5
