"""The model protocol's contract: shapes, dtypes, no mutation, caches, bad input."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from advref.models import MLP, LogisticRegression, MaxoutMLP, RBFNetwork, SoftmaxRegression

D, K, N = 6, 3, 5


def make_all(dtype=np.float64):
    return [LogisticRegression(D, dtype=dtype), SoftmaxRegression(D, K, dtype=dtype),
            MaxoutMLP(D, K, units=(4, 4), pieces=3, dtype=dtype),
            MLP(D, K, hidden=(5,), dtype=dtype), MLP(D, K, hidden=(5,), activation="tanh",
                                                     dtype=dtype),
            RBFNetwork(D, K, dtype=dtype)]


def data(model, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((N, D)).astype(dtype), rng.integers(0, model.n_classes, N)


@pytest.mark.parametrize("model", make_all(), ids=lambda m: type(m).__name__)
def test_protocol_shapes(model):
    x, y = data(model)
    proba = model.predict_proba(x)
    assert proba.shape == (N, model.n_classes)
    assert model.predict(x).shape == (N,) and model.predict(x).dtype == np.int64
    losses, d_x = model.loss_grad(x, y)
    assert losses.shape == (N,) and d_x.shape == (N, D)
    loss, grads = model.loss_and_grads(x, y)
    assert set(grads) == set(model.params)
    assert all(grads[k].shape == v.shape for k, v in model.params.items())
    np.testing.assert_allclose(loss, losses.mean())
    if type(model).__name__ != "RBFNetwork":
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)


@pytest.mark.parametrize("index", range(6))
def test_float32_in_float32_out_and_inputs_unchanged(index):
    model = make_all(np.float32)[index]
    x, y = data(model, np.float32)
    x_before, y_before = x.copy(), y.copy()
    losses, d_x = model.loss_grad(x, y)
    loss, grads = model.loss_and_grads(x, y, train=True, rng=0)
    assert losses.dtype == np.float32 and d_x.dtype == np.float32
    assert model.predict_proba(x).dtype == np.float32
    assert all(g.dtype == np.float32 for g in grads.values())
    assert all(p.dtype == np.float32 for p in model.params.values())
    np.testing.assert_array_equal(x, x_before)
    np.testing.assert_array_equal(y, y_before)


def test_loss_grad_is_per_example_and_batch_independent():
    model = MaxoutMLP(D, K, units=(4,), pieces=2, rng=3)
    x, y = data(model)
    _, d_all = model.loss_grad(x, y)
    _, d_one = model.loss_grad(x[:1], y[:1])
    np.testing.assert_allclose(d_all[:1], d_one, rtol=1e-12)


def test_two_forwards_before_one_backward_do_not_interfere():
    model = MLP(D, K, hidden=(5,), include_probs=(0.5, 0.5), scales=(2.0, 2.0))
    x1, _ = data(model, seed=1)
    x2, _ = data(model, seed=2)
    s1, c1 = model.forward(x1, train=True, rng=1)
    model.forward(x2, train=True, rng=2)
    d = np.ones_like(s1)
    g_after, dx_after = model.backward(c1, d)
    s1b, c1b = model.forward(x1, train=True, rng=1)
    g_alone, dx_alone = model.backward(c1b, d)
    np.testing.assert_array_equal(dx_after, dx_alone)
    for k in g_alone:
        np.testing.assert_array_equal(g_after[k], g_alone[k])


def test_dropout_only_with_train_and_rng():
    model = MaxoutMLP(D, K, units=(4,), pieces=2)
    x, _ = data(model)
    eval_scores = model.forward(x)[0]
    np.testing.assert_array_equal(model.forward(x, train=True)[0], eval_scores)
    a = model.forward(x, train=True, rng=5)[0]
    b = model.forward(x, train=True, rng=5)[0]
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, eval_scores)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 7), units=st.integers(1, 6), pieces=st.integers(1, 5),
       levels=st.integers(1, 4), seed=st.integers(0, 2**31 - 1),
       dtype=st.sampled_from([np.float32, np.float64]))
def test_fast_maxout_agrees_with_the_reference_form(n, units, pieces, levels, seed, dtype):
    """Few distinct values (levels) make ties common, so the first-winner path runs too."""
    from advref.models.activations import Maxout, maxout_backward_reference, maxout_reference

    rng = np.random.default_rng(seed)
    z = rng.integers(0, levels, (n, pieces * units)).astype(dtype)
    dh = rng.standard_normal((n, units)).astype(dtype)
    act = Maxout(pieces)
    h, cache = act.forward(z)
    np.testing.assert_array_equal(h, maxout_reference(z, pieces))
    dz = act.backward(dh, cache)
    assert dz.dtype == dtype
    np.testing.assert_array_equal(dz, maxout_backward_reference(z, dh, pieces))


def test_logistic_input_gradient_sign_is_minus_s_sign_w():
    model = LogisticRegression(D, rng=4)
    x, _ = data(model)
    y = np.array([0, 1, 0, 1, 1])
    _, d_x = model.loss_grad(x, y)
    s = (2 * y - 1)[:, None]
    np.testing.assert_array_equal(np.sign(d_x), -s * np.sign(model.w)[None, :])


BAD_X = [
    (lambda x: x[:, :-1], ValueError, "6 features"),
    (lambda x: x[0], ValueError, "must be 2-D"),
    (lambda x: x[:0], ValueError, "at least one example"),
    (lambda x: np.where(np.eye(N, D, dtype=bool), np.nan, x), ValueError, "NaN or infinite"),
    (lambda x: np.full_like(x, np.inf), ValueError, "NaN or infinite"),
    (lambda x: x.astype(np.int64), TypeError, "float32 or float64"),
    (lambda x: x.astype(np.float32), TypeError, "model's dtype float64"),
    (lambda x: x.tolist(), TypeError, "numpy array"),
]


@pytest.mark.parametrize("mutate, error, message", BAD_X)
@pytest.mark.parametrize("index", range(6))
def test_bad_x(index, mutate, error, message):
    model = make_all()[index]
    x, y = data(model)
    with pytest.raises(error, match=message):
        model.loss_grad(mutate(x), y)
    with pytest.raises(error, match=message):
        model.predict(mutate(x))


@pytest.mark.parametrize("index", range(6))
def test_bad_labels(index):
    model = make_all()[index]
    x, y = data(model)
    with pytest.raises(ValueError, match=r"class indices in \[0, \d\)"):
        model.loss_grad(x, np.full(N, model.n_classes))
    with pytest.raises(ValueError, match="class indices"):
        model.loss_grad(x, np.full(N, -1))
    with pytest.raises(TypeError, match="integer class indices"):
        model.loss_grad(x, y.astype(float))
    with pytest.raises(ValueError, match="shape"):
        model.loss_grad(x, y[:-1])


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="n_classes must be an integer in \\[2, "):
        SoftmaxRegression(3, 1)
    with pytest.raises(ValueError, match="activation must be one of"):
        MLP(3, 2, activation="sigmoid")
    with pytest.raises(ValueError, match="include_probs must be in"):
        MaxoutMLP(3, 2, units=(2,), include_probs=(0.0, 0.5), scales=(1, 2))
    with pytest.raises(ValueError, match="one value per layer"):
        MaxoutMLP(3, 2, units=(2,), include_probs=(0.5,), scales=(1,))
    with pytest.raises(TypeError, match="float32 or float64"):
        SoftmaxRegression(3, 2, dtype=np.float16)


def test_maxout_is_piece_major_and_every_kind_of_tie_goes_to_the_first_piece():
    from advref.models.activations import Maxout

    act = Maxout(3)
    # Two units, three pieces, column r*2 + j is piece r of unit j. Per row, the
    # pieces of unit 0 and unit 1 are: [7 7 7] [1 2 2]; [0 0 0] [5 1 5]; [1 2 3] [3 2 1].
    z = np.array([[7.0, 1.0, 7.0, 2.0, 7.0, 2.0], [0.0, 5.0, 0.0, 1.0, 0.0, 5.0],
                  [1.0, 3.0, 2.0, 2.0, 3.0, 1.0]])
    h, cache = act.forward(z)
    np.testing.assert_array_equal(h, [[7, 2], [0, 5], [3, 3]])
    dz = act.backward(np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]), cache)
    np.testing.assert_array_equal(dz, [[1, 0, 0, 2, 0, 0], [3, 4, 0, 0, 0, 0],
                                       [0, 6, 0, 0, 5, 0]])
