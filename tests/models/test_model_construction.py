"""How models are built: the documented defaults, the initialisation rules written
out by hand, configs that rebuild the same model, and errors that name the argument.

The oracles are the docstrings' rules recomputed here with NumPy's generator, and
literal values copied from the paper's recipe (paper-notes §4), never the code's
own output.
"""

import math

import numpy as np
import pytest

from advref.models import (
    MLP,
    Ensemble,
    LogisticRegression,
    MaxoutMLP,
    RBFNetwork,
    SoftmaxRegression,
)

RECIPE_MAXOUT = {"n_features": 784, "n_classes": 10, "units": [240, 240], "pieces": 5,
                 "include_probs": [0.8, 0.5, 0.5], "scales": [1.0, 2.0, 2.0],
                 "max_col_norm": 1.9365, "irange": 0.005, "dtype": "float64"}


def test_the_defaults_are_the_documented_recipes():
    assert MaxoutMLP().config() == RECIPE_MAXOUT
    assert MaxoutMLP(output="sigmoid-ovr").config() == {**RECIPE_MAXOUT, "output": "sigmoid-ovr"}
    assert MLP().config() == {"n_features": 784, "n_classes": 10, "hidden": [800, 800],
                              "activation": "relu", "include_probs": [1.0, 1.0, 1.0],
                              "scales": [1.0, 1.0, 1.0], "max_col_norm": None,
                              "dtype": "float64"}
    assert RBFNetwork().config() == {"n_features": 784, "n_classes": 10, "gamma_init": 0.05,
                                     "center_init": 0.5, "center_noise": 0.01,
                                     "dtype": "float64"}
    assert SoftmaxRegression(7).config() == {"n_features": 7, "n_classes": 10,
                                             "init_scale": 0.01, "dtype": "float64"}
    assert LogisticRegression(7).config() == {"n_features": 7, "init_scale": 0.01,
                                              "dtype": "float64"}


def every_kind(dtype):
    return [SoftmaxRegression(5, 3, rng=4, init_scale=0.5, dtype=dtype),
            LogisticRegression(5, rng=4, init_scale=0.5, dtype=dtype),
            MaxoutMLP(5, 3, units=(4, 2), pieces=2, irange=0.3, max_col_norm=None,
                      include_probs=(1.0, 0.5, 0.25), scales=(1.0, 2.0, 4.0), rng=4,
                      dtype=dtype),
            MaxoutMLP(5, 3, units=(4,), pieces=3, output="sigmoid-ovr", rng=4, dtype=dtype),
            MLP(5, 3, hidden=(4,), activation="tanh", max_col_norm=2.5, rng=4, dtype=dtype),
            RBFNetwork(5, 3, gamma_init=0.2, center_init=-1.0, center_noise=0.3, rng=4,
                       dtype=dtype)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("index", range(6))
def test_a_config_rebuilds_the_same_model(index, dtype):
    model = every_kind(dtype)[index]
    config = model.config()
    rebuilt = type(model)(**config, rng=4)
    assert rebuilt.config() == config
    for name, value in model.params.items():
        assert value.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(rebuilt.params[name], value)


def test_linear_models_start_at_init_scale_times_standard_normals():
    for seed in (0, 9):
        g = np.random.default_rng(seed)
        m = SoftmaxRegression(4, 3, rng=seed) if seed else SoftmaxRegression(4, 3)
        np.testing.assert_array_equal(m.params["W"], 0.01 * g.standard_normal((4, 3)))
        np.testing.assert_array_equal(m.params["b"], np.zeros(3))
    w = 0.25 * np.random.default_rng(0).standard_normal((4, 1))
    np.testing.assert_array_equal(LogisticRegression(4, init_scale=0.25).params["W"], w)
    np.testing.assert_array_equal(LogisticRegression(4, rng=3).params["W"],
                                  0.01 * np.random.default_rng(3).standard_normal((4, 1)))


def test_maxout_weights_are_drawn_uniform_layer_by_layer_from_one_generator():
    for kwargs, seed in (({}, 0), ({"rng": 5, "irange": 0.125}, 5)):
        m = MaxoutMLP(6, 3, units=(4, 2), pieces=3, **kwargs)
        g, r = np.random.default_rng(seed), kwargs.get("irange", 0.005)
        for name, shape in (("W0", (6, 12)), ("W1", (4, 6)), ("W2", (2, 3))):
            np.testing.assert_array_equal(m.params[name], g.uniform(-r, r, size=shape))
        for name, width in (("b0", 12), ("b1", 6), ("b2", 3)):
            np.testing.assert_array_equal(m.params[name], np.zeros(width))


@pytest.mark.parametrize("activation, gain", [("relu", math.sqrt(2)), ("tanh", 1.0)])
def test_mlp_weights_are_normal_with_gain_over_root_fan_in(activation, gain):
    m = MLP(6, 3, hidden=(4, 5), activation=activation, rng=2)
    g = np.random.default_rng(2)
    for i, (fan_in, fan_out) in enumerate([(6, 4), (4, 5), (5, 3)]):
        expected = gain / math.sqrt(fan_in) * g.standard_normal((fan_in, fan_out))
        np.testing.assert_allclose(m.params[f"W{i}"], expected, rtol=1e-15, atol=0)
        np.testing.assert_array_equal(m.params[f"b{i}"], np.zeros(fan_out))


def test_rbf_starts_at_noisy_centres_and_equal_widths():
    g = np.random.default_rng(0)
    m = RBFNetwork(4, 3)
    np.testing.assert_array_equal(m.params["mu"], 0.5 + 0.01 * g.standard_normal((3, 4)))
    np.testing.assert_array_equal(m.params["gamma"], np.full((3, 4), 0.05))
    g = np.random.default_rng(6)
    m = RBFNetwork(4, 3, gamma_init=0.7, center_init=-2.0, center_noise=0.5, rng=6,
                   dtype=np.float32)
    np.testing.assert_array_equal(m.params["mu"],
                                  (-2.0 + 0.5 * g.standard_normal((3, 4))).astype(np.float32))
    np.testing.assert_array_equal(m.params["gamma"], np.full((3, 4), 0.7, np.float32))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rbf_centres_start_at_the_class_means(dtype):
    x = np.array([[1, 2], [3, 4], [10, 0], [5, 6], [0, 30], [2, 2]], dtype)
    y = np.array([0, 0, 2, 0, 1, 2])
    m = RBFNetwork(2, 3, dtype=dtype).init_centers(x, y)
    # by hand: class 0 = rows 0, 1, 3; class 1 = row 4; class 2 = rows 2, 5
    np.testing.assert_array_equal(m.params["mu"], np.array([[3, 4], [0, 30], [6, 1]], dtype))
    assert m.params["mu"].dtype == dtype
    np.testing.assert_array_equal(m.params["gamma"], np.full((3, 2), 0.05, dtype))
    m.init_centers(x, y, gamma_scale=3.0)
    np.testing.assert_array_equal(m.params["gamma"], np.full((3, 2), 3 / math.sqrt(2), dtype))
    with pytest.raises(ValueError, match=r"got none for classes \[1, 3\] instead"):
        RBFNetwork(2, 4).init_centers(x[[0, 2]].astype(np.float64), np.array([0, 2]))
    with pytest.raises(ValueError, match=r"^y must be class indices in \[0, 3\)"):
        RBFNetwork(2, 3).init_centers(x.astype(np.float64), y + 1)
    with pytest.raises(ValueError, match="^x must have 2 features"):
        RBFNetwork(2, 3).init_centers(np.ones((6, 3)), y)
    with pytest.raises(TypeError, match="^x must have the model's dtype float32"):
        RBFNetwork(2, 3, dtype=np.float32).init_centers(x.astype(np.float64), y)
    with pytest.raises(ValueError, match=r"^y must have shape \(6,\), got \(5,\)"):
        RBFNetwork(2, 3).init_centers(x.astype(np.float64), y[:5])


BAD_ARGUMENTS = [
    (lambda: SoftmaxRegression(0), ValueError, "n_features"),
    (lambda: SoftmaxRegression(3, 1), ValueError, "n_classes"),
    (lambda: SoftmaxRegression(3, 2, init_scale=-0.5), ValueError, "init_scale"),
    (lambda: LogisticRegression(3, init_scale=float("nan")), ValueError, "init_scale"),
    (lambda: RBFNetwork(0), ValueError, "n_features"),
    (lambda: RBFNetwork(3, 1), ValueError, "n_classes"),
    (lambda: RBFNetwork(3, 2, gamma_init=-0.1), ValueError, "gamma_init"),
    (lambda: RBFNetwork(3, 2, center_init=float("inf")), ValueError, "center_init"),
    (lambda: RBFNetwork(3, 2, center_noise=-1.0), ValueError, "center_noise"),
    (lambda: MaxoutMLP(3, 2, units=(2,), pieces=0), ValueError, "pieces"),
    (lambda: MaxoutMLP(3, 2, units=(2,), max_col_norm=0.0), ValueError, "max_col_norm"),
    (lambda: MaxoutMLP(3, 2, units=(2,), irange=-0.1), ValueError, "irange"),
    (lambda: MaxoutMLP(0, 2, units=(2,)), ValueError, "n_features"),
    (lambda: MaxoutMLP(3, 1, units=(2,)), ValueError, "n_classes"),
    (lambda: MaxoutMLP(3, 2, units=(2,), output="rbf"), ValueError, "output"),
    (lambda: MaxoutMLP(3, 2, units=(2,), scales=(1.0, 0.0)), ValueError, "scales"),
    (lambda: MaxoutMLP(3, 2, units=(2,), include_probs=(1.0, 1.5)), ValueError,
     "include_probs"),
    (lambda: MLP(3, 2, hidden=(2,), max_col_norm=0.0), ValueError, "max_col_norm"),
    (lambda: MLP(3, 2, hidden=()), ValueError, "hidden"),
    (lambda: MLP(3, 2, hidden=(2,), activation="elu"), ValueError, "activation"),
]


@pytest.mark.parametrize("build, error, name", BAD_ARGUMENTS,
                         ids=[f"{i}-{b[2]}" for i, b in enumerate(BAD_ARGUMENTS)])
def test_a_bad_argument_is_named_first_in_the_message(build, error, name):
    with pytest.raises(error) as caught:
        build()
    assert str(caught.value).startswith(f"{name} must ")


def test_boundary_values_are_accepted():
    """The lowest legal values (open bounds just above them) build a model."""
    assert MaxoutMLP(1, 2, units=(1,), pieces=1, irange=0.0, max_col_norm=1e-300).pieces == 1
    assert MLP(1, 2, hidden=(1,), max_col_norm=1e-300).max_col_norm == 1e-300
    assert RBFNetwork(1, 2, gamma_init=0.0, center_noise=0.0).n_classes == 2
    assert SoftmaxRegression(1, 2, init_scale=0.0).params["W"].tolist() == [[0.0, 0.0]]
    assert MaxoutMLP(3, 2, units=(2,), scales=(1e-300, 1.0)).scales == (1e-300, 1.0)


def test_an_ensemble_averages_its_members_probabilities():
    members = [SoftmaxRegression(3, 4, rng=s, init_scale=3.0) for s in range(3)]
    x = np.random.default_rng(1).random((6, 3)) * 4 - 2      # predicted classes 0, 2, 3
    by_hand = np.zeros((6, 4))
    for m in members:
        z = x @ m.params["W"] + m.params["b"]
        e = np.exp(z - z.max(axis=1, keepdims=True))
        by_hand += e / e.sum(axis=1, keepdims=True) / 3
    ens = Ensemble(members)
    np.testing.assert_allclose(ens.predict_proba(x), by_hand, rtol=1e-14)
    predicted = ens.predict(x)
    assert predicted.dtype == np.int64 and predicted.shape == (6,)
    assert set(predicted.tolist()) == {0, 2, 3}
    np.testing.assert_array_equal(predicted, by_hand.argmax(axis=1))
    assert (ens.n_features, ens.n_classes, ens.dtype) == (3, 4, np.float64)


def test_an_ensemble_refuses_mismatched_members_and_says_which():
    a = SoftmaxRegression(3, 4)
    with pytest.raises(ValueError, match="at least one member"):
        Ensemble([])
    with pytest.raises(ValueError, match="got member 1 without one"):
        Ensemble([a, LogisticRegression(3)])
    with pytest.raises(ValueError, match=r"got member 2 with \(3, 5, dtype\('float64'\)\) "
                                         r"instead of \(3, 4, dtype\('float64'\)\)"):
        Ensemble([a, a, SoftmaxRegression(3, 5)])
    with pytest.raises(ValueError, match="got member 1 with"):
        Ensemble([a, SoftmaxRegression(3, 4, dtype=np.float32)])
    with pytest.raises(ValueError, match="got member 1 with"):
        Ensemble([a, SoftmaxRegression(2, 4)])


def test_an_ensemble_of_one_and_members_without_an_output():
    one = SoftmaxRegression(3, 2, init_scale=1.0)
    x = np.random.default_rng(2).random((4, 3))
    np.testing.assert_array_equal(Ensemble([one]).predict_proba(x), one.predict_proba(x))

    class Bare:
        n_features, n_classes, dtype = 3, 2, np.dtype(np.float64)

    with pytest.raises(ValueError, match="got member 1 without one"):
        Ensemble([one, Bare()])


def test_an_ensemble_of_float32_members_returns_float32():
    members = [SoftmaxRegression(3, 2, rng=s, init_scale=1.0, dtype=np.float32) for s in (0, 1)]
    x = np.full((2, 3), 0.5, np.float32)
    losses, grads = Ensemble(members).loss_grad(x, np.array([0, 1]))
    assert losses.dtype == np.float32 and grads.dtype == np.float32


def test_mlp_dropout_arguments_and_default_seed():
    m = MLP(3, 2, hidden=(4,), include_probs=(1.0, 0.5), scales=(1.0, 2.0))
    assert (m.include_probs, m.scales) == ((1.0, 0.5), (1.0, 2.0))
    g = np.random.default_rng(0)
    np.testing.assert_array_equal(m.params["W0"], math.sqrt(2) / math.sqrt(3) *
                                  g.standard_normal((3, 4)))
    with pytest.raises(ValueError, match="one value per layer"):
        MaxoutMLP(3, 2, units=(2,), include_probs=(0.5, 0.5), scales=(1.0,))
    with pytest.raises(ValueError, match="one value per layer"):
        MaxoutMLP(3, 2, units=(2,), include_probs=(0.5,), scales=(1.0, 2.0))


def test_kink_distance_over_every_hidden_layer_with_the_training_masks():
    """ReLU 2 -> 3 -> 3 -> 2: the smallest |pre-activation| of both hidden layers,
    with the input dropped out by the generator's mask in training mode."""
    from advref.models.dropout import bernoulli_keep

    m = MLP(2, 2, hidden=(3, 3), include_probs=(0.5, 1.0, 1.0), scales=(2.0, 1.0, 1.0), rng=1)
    x = np.array([[0.3, -0.7], [1.1, 0.4]])

    def by_hand(x_in):
        z0 = x_in @ m.params["W0"] + m.params["b0"]
        z1 = np.maximum(z0, 0) @ m.params["W1"] + m.params["b1"]
        return min(np.abs(z0).min(), np.abs(z1).min())

    assert m.kink_distance(x) == by_hand(x)
    keep = bernoulli_keep(np.random.default_rng(4), x.shape, 0.5)
    assert m.kink_distance(x, train=True, rng=np.random.default_rng(4)) == by_hand(x * keep * 2)
    m.params["b1"][:] = m.params["b1"] - (np.maximum(x @ m.params["W0"] + m.params["b0"], 0)
                                          @ m.params["W1"] + m.params["b1"])[0, 0]
    assert m.kink_distance(x) == 0.0        # the second layer's kink, not the first's
