"""The basic iterative method and R+FGSM, against hand-computed paths.

The oracles: a toy model whose loss is a bowl, J(x) = -||x - c||^2 / 2, so
grad_x J = c - x and every step can be followed by hand in exact binary
fractions; and a two-class softmax regression, whose input gradient
(p_1 - [y = 1]) (w_1 - w_0) has a sign fixed by the label, so every variant
must end on FGSM's corner x + eps * sign, the closed form of the linear view.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from advref.attacks.fast_gradient import fgsm
from advref.attacks.iterative import iterative_fgsm, random_step_fgsm
from advref.models import MLP, SoftmaxRegression


class Bowl:
    """J(x) = -||x - c||^2 / 2 whatever the label: ascending J walks toward c."""

    n_classes = 2

    def __init__(self, c):
        self.c = np.asarray(c, dtype=np.float64)

    def loss_grad(self, x, y):
        return -0.5 * ((x - self.c) ** 2).sum(), self.c - x

    def predict(self, x):
        return np.zeros(len(x), dtype=np.int64)


class Broken(Bowl):
    """A model whose input gradient holds NaN."""

    def __init__(self):
        super().__init__([0.5, 0.5])

    def loss_grad(self, x, y):
        return 0.0, np.full_like(x, np.nan)


X = np.array([[0.5, 0.5]])
BOWL = Bowl([0.6875, 0.3125])


@pytest.mark.parametrize("kwargs, expected", [
    # a = 1/8. Coordinate 0 (toward .6875): .5 -> .625 -> .75 -> .625, overshooting and
    # turning; coordinate 1 (toward .3125): .5 -> .375 -> .25 (the ball's edge) -> .375
    (dict(steps=3, step_size=0.125), [0.625, 0.375]),
    # a fourth step ends on the ball's corner, FGSM's point
    (dict(steps=4, step_size=0.125), [0.75, 0.25]),
    # default a = 2.5 eps / steps = 1/8 for 5 steps: .5 .625 .75 .625 .75 .625
    (dict(steps=5), [0.625, 0.375]),
    # the box [0, .6875] stops coordinate 0 at c, where the gradient is 0 and it stays
    (dict(steps=3, step_size=0.125, clip=(0.0, 0.6875)), [0.6875, 0.375]),
    # one step of eps is FGSM: sign(c - x) = (+, -)
    (dict(steps=1, step_size=0.25), [0.75, 0.25]),
    # targeted descends J, away from c: .5 -> .375 -> .25 -> .25 and .5 -> .625 -> .75 -> .75
    (dict(steps=3, step_size=0.125, targeted=True, y=[1]), [0.25, 0.75]),
    # inside the ball: .5 -> .4375 -> .375 and .5 -> .5625 -> .625
    (dict(steps=2, step_size=0.0625, targeted=True, y=[1]), [0.375, 0.625]),
])
def test_basic_iterative_method_follows_the_hand_computed_path(kwargs, expected):
    assert iterative_fgsm(BOWL, X, 0.25, **kwargs).tolist() == [expected]


def test_the_defaults_are_ten_steps_of_a_quarter_of_eps():
    # a = 1/16; coordinate 0 climbs toward .71875 to the ball's edge .75 (step 4), then
    # turns at every step: .6875 after odd steps, .75 after even ones; coordinate 1
    # reaches .3125 at step 3 and stays (zero gradient)
    assert iterative_fgsm(Bowl([0.71875, 0.3125]), X, 0.25).tolist() == [[0.75, 0.3125]]


def linear_case(dtype=np.float64):
    model = SoftmaxRegression(12, 2, rng=3, dtype=dtype)
    x = np.random.default_rng(4).integers(16, 49, size=(6, 12)) / 64   # in [.25, .75], exact
    y = np.array([0, 1, 0, 1, 1, 0])
    w = model.params["W"]
    s = np.sign(w[:, 1] - w[:, 0]) * np.where(y == 0, 1.0, -1.0)[:, None]   # sign of the gradient
    return model, x.astype(dtype), y, s.astype(dtype)


@pytest.mark.parametrize("clip", [None, (0.0, 1.0)])
@pytest.mark.parametrize("steps", [4, 10])
def test_on_a_linear_model_the_iterations_end_on_fgsm_corner(steps, clip):
    model, x, y, s = linear_case()
    assert np.array_equal(iterative_fgsm(model, x, 0.25, y=y, steps=steps, clip=clip),
                          x + 0.25 * s)


def test_on_a_linear_model_r_fgsm_is_the_random_step_plus_the_rest_toward_the_corner():
    model, x, y, s = linear_case()
    got = random_step_fgsm(model, x, 0.25, y=y, alpha=0.0625, rng=7)
    r = np.sign(np.random.default_rng(7).standard_normal(x.shape))
    assert np.array_equal(got, x + 0.0625 * r + 0.1875 * s)
    # where the random sign agrees with the gradient's the full eps is spent, else eps - 2 alpha
    assert set(np.unique((got - x) * s)) == {0.125, 0.25}


def test_r_fgsm_with_alpha_zero_is_fgsm_and_defaults_to_half_the_budget_and_seed_0():
    model, x, y, s = linear_case()
    assert np.array_equal(random_step_fgsm(model, x, 0.25, y=y, alpha=0.0),
                          fgsm(model, x, 0.25, y=y))
    half = random_step_fgsm(model, x, 0.25, y=y)
    r = np.sign(np.random.default_rng(0).standard_normal(x.shape))
    assert np.array_equal(half, x + 0.125 * r + 0.125 * s)


def test_r_fgsm_with_alpha_eps_is_the_random_step_alone():
    model, x, y, _ = linear_case()
    r = np.sign(np.random.default_rng(4).standard_normal(x.shape))
    assert np.array_equal(random_step_fgsm(model, x, 0.25, y=y, alpha=0.25, rng=4),
                          x + 0.25 * r)


def test_r_fgsm_clips_both_steps_to_the_box():
    # pixels at and near 0 and 1 (exact in binary): each step is cut back to [0, 1]
    model, _, y, s = linear_case()
    x = np.random.default_rng(5).integers(0, 65, size=(6, 12)) / 64
    x[:, :4] = [0.0, 1.0, 1 / 64, 63 / 64]
    r = np.sign(np.random.default_rng(6).standard_normal(x.shape))
    start = np.clip(x + 0.0625 * r, 0, 1)
    assert np.array_equal(random_step_fgsm(model, x, 0.25, y=y, alpha=0.0625, rng=6),
                          np.clip(start + 0.1875 * s, 0, 1))


def test_r_fgsm_in_float32_rounds_each_step_in_float32():
    model, _, y, s = linear_case(np.float32)
    x = np.random.default_rng(8).uniform(0, 1, size=(6, 12)).astype(np.float32)
    r = np.sign(np.random.default_rng(9).standard_normal(x.shape)).astype(np.float32)
    start = np.clip(x + np.float32(0.1) * r, 0, 1)
    expected = np.clip(start + np.float32(0.3 - 0.1) * s, 0, 1)
    got = random_step_fgsm(model, x, 0.3, y=y, alpha=0.1, rng=9)
    assert got.dtype == np.float32 and np.array_equal(got, expected)


def test_targeted_r_fgsm_descends_the_target_loss_from_the_random_point():
    r = np.sign(np.random.default_rng(1).standard_normal(X.shape))
    start = X + 0.125 * r
    expected = start - 0.0625 * np.sign(BOWL.c - start)
    assert np.array_equal(random_step_fgsm(BOWL, X, 0.1875, y=[1], alpha=0.125, targeted=True,
                                           rng=1), expected)


def test_r_fgsm_clips_the_random_step_before_taking_the_gradient_step():
    # x = 0 and 1 at the box's edges: the random step is cut back to the box first
    model = Bowl([0.5, 0.5])
    x = np.array([[0.0, 1.0]])
    r = np.sign(np.random.default_rng(1).standard_normal(x.shape))
    start = np.clip(x + 0.125 * r, 0, 1)
    assert np.array_equal(random_step_fgsm(model, x, 0.25, alpha=0.125, rng=1),
                          np.clip(start + 0.125 * np.sign(0.5 - start), 0, 1))


@pytest.mark.parametrize("signs, expected", [
    # start (5/8, 5/8): c - start = (1/16, -5/16), so the rest (1/8) goes (+, -)
    ([[1, 1]], [[0.75, 0.5]]),
    # start (3/8, 3/8): c - start = (5/16, -1/16), the same signs from the other side
    ([[-1.0, -1.0]], [[0.5, 0.25]]),
    # start (5/8, 3/8): c - start = (1/16, -1/16)
    ([[1, -1]], [[0.75, 0.25]]),
])
def test_r_fgsm_replays_given_signs_by_hand(signs, expected):
    before = np.array(signs)
    for rng in (0, 1, np.random.default_rng(5)):              # rng is unused
        got = random_step_fgsm(BOWL, X, 0.25, alpha=0.125, signs=before, rng=rng)
        assert got.tolist() == expected
    assert np.array_equal(before, np.array(signs))            # signs untouched


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_r_fgsm_with_its_own_draw_as_signs_is_the_seeded_attack(dtype):
    model, _, y, _ = linear_case(dtype)
    x = np.random.default_rng(2).uniform(0, 1, size=(6, 12)).astype(dtype)
    r = np.sign(np.random.default_rng(3).standard_normal(x.shape))
    assert np.array_equal(random_step_fgsm(model, x, 0.25, y=y, alpha=0.0625, signs=r),
                          random_step_fgsm(model, x, 0.25, y=y, alpha=0.0625, rng=3))
    # float32 signs replay the same attack as float64 ones
    assert np.array_equal(random_step_fgsm(model, x, 0.25, y=y, signs=r.astype(np.float32)),
                          random_step_fgsm(model, x, 0.25, y=y, signs=r.astype(np.int8)))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_random_start_is_a_uniform_draw_in_the_ball_projected_onto_the_box(dtype):
    flat = Bowl([0.0, 0.0])
    flat.loss_grad = lambda x, y: (0.0, np.zeros_like(x))   # no step ever moves it
    x = np.random.default_rng(3).uniform(0, 1, size=(3, 40)).astype(dtype)
    got = iterative_fgsm(flat, x, 0.25, steps=2, random_start=True)      # seed 0 by default
    draw = np.random.default_rng(0).uniform(-0.25, 0.25, size=x.shape).astype(dtype)
    assert got.dtype == dtype and np.array_equal(got, np.clip(x + draw, 0.0, 1.0))
    assert np.array_equal(iterative_fgsm(flat, x, 0.25, steps=2), x)   # no random start


def test_a_random_start_outside_the_box_is_projected_before_the_first_gradient():
    """Bowls centred on the box's edges: from a start projected onto the edge the
    gradient is 0 or points back to it, so every coordinate ends on the edge; from an
    unprojected start outside, the gradient would point inward and move it off."""
    x = np.array([[0.05] * 8 + [0.95] * 8])
    edges = Bowl([0.0] * 8 + [1.0] * 8)
    got = iterative_fgsm(edges, x, 0.25, steps=1, step_size=0.25, random_start=True, rng=2)
    assert got.tolist() == [[0.0] * 8 + [1.0] * 8]


def test_labels_default_to_the_clean_predictions_and_stay_fixed():
    model, x, _, _ = linear_case()
    own = model.predict(x)
    assert np.array_equal(iterative_fgsm(model, x, 0.25), iterative_fgsm(model, x, 0.25, y=own))


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**16), eps=st.sampled_from([0.05, 0.1, 0.3]),
       steps=st.integers(1, 6), float32=st.booleans(), clip=st.booleans())
def test_iterates_never_leave_the_ball_or_the_box_nor_touch_x(seed, eps, steps, float32, clip):
    dtype = np.float32 if float32 else np.float64
    model = MLP(6, 3, hidden=(5,), activation="relu", rng=seed, dtype=dtype)
    x = np.random.default_rng(seed).uniform(0, 1, size=(4, 6)).astype(dtype)
    before = x.copy()
    box = (0.0, 1.0) if clip else None
    got = iterative_fgsm(model, x, eps, y=[0, 1, 2, 0], steps=steps, clip=box,
                         random_start=True, rng=seed)
    assert got.dtype == dtype and np.array_equal(x, before)
    assert np.all(got >= np.maximum(x - dtype(eps), 0 if clip else -np.inf))
    assert np.all(got <= np.minimum(x + dtype(eps), 1 if clip else np.inf))


@pytest.mark.parametrize("call, error, message", [
    (lambda: iterative_fgsm(BOWL, X, 0.25, steps=0), ValueError, "steps"),
    (lambda: iterative_fgsm(BOWL, X, 0.25, steps=2.5), TypeError, "steps"),
    (lambda: iterative_fgsm(BOWL, X, 0.25, step_size=0.0), ValueError, "step_size"),
    (lambda: iterative_fgsm(BOWL, X, 0.25, step_size=np.nan), ValueError, "step_size"),
    (lambda: iterative_fgsm(BOWL, X, 0.25, rng=-1), ValueError, "rng"),
    (lambda: iterative_fgsm(BOWL, X, np.inf), ValueError, "eps"),
    (lambda: iterative_fgsm(BOWL, X, 0.25, y=[2]), ValueError, "y"),
    (lambda: iterative_fgsm(BOWL, X + 1, 0.25), ValueError, "clip box"),
    (lambda: iterative_fgsm(BOWL, X, 0.25, targeted=True), ValueError, "target classes"),
    (lambda: iterative_fgsm(object(), X, 0.25), TypeError, "iterative_fgsm needs"),
    (lambda: random_step_fgsm(BOWL, X, 0.25, alpha=0.3), ValueError, "alpha must be <= eps"),
    (lambda: random_step_fgsm(BOWL, X, 0.25, alpha=-0.1), ValueError, "alpha"),
    (lambda: random_step_fgsm(BOWL, X, 0.25, rng=1.5), TypeError, "rng"),
    (lambda: random_step_fgsm(BOWL, np.array([[np.nan, 0.5]]), 0.25), ValueError, "NaN"),
    (lambda: random_step_fgsm(BOWL, X, 0.25, targeted=True), ValueError, "target classes"),
    (lambda: random_step_fgsm(object(), X, 0.25), TypeError, "^random_step_fgsm needs"),
    (lambda: iterative_fgsm(BOWL, X, 0.25, steps=-3), ValueError, "^steps must"),
    (lambda: iterative_fgsm(BOWL, X, 0.25, step_size=-1.0), ValueError, "^step_size must"),
    (lambda: random_step_fgsm(BOWL, X, 0.25, alpha=-1.0), ValueError, "^alpha must"),
    (lambda: iterative_fgsm(Broken(), X, 0.25), ValueError, "^the model's input gradient"),
    (lambda: random_step_fgsm(BOWL, X, 0.25, signs=[[1, 1, 1]]), ValueError,
     r"^signs must have x's shape \(1, 2\), got \(1, 3\) instead"),
    (lambda: random_step_fgsm(BOWL, X, 0.25, signs=[1, -1]), ValueError, "signs must have"),
    (lambda: random_step_fgsm(BOWL, X, 0.25, signs=[[1, 0]]), ValueError,
     r"^signs must hold only -1 and \+1, got 0 at index \(0, 1\) instead"),
    (lambda: random_step_fgsm(BOWL, X, 0.25, signs=[[np.nan, 1]]), ValueError,
     r"got nan at index \(0, 0\)"),
    (lambda: random_step_fgsm(BOWL, X, 0.25, signs=[[1, 0.5]]), ValueError, "got 0.5 at"),
    (lambda: random_step_fgsm(BOWL, X, 0.25, signs=[[-2, 1]]), ValueError, "got -2 at"),
    (lambda: random_step_fgsm(BOWL, X, 0.25, signs=np.array([[True, True]])), TypeError,
     "^signs must be an array of -1 and \\+1 \\(integer or float\\), got dtype bool"),
    (lambda: random_step_fgsm(BOWL, X, 0.25, signs=[["+", "-"]]), TypeError, "dtype <U1"),
    (lambda: random_step_fgsm(BOWL, X, 0.25, signs=1), TypeError,
     "^signs must be an array of -1 and \\+1, got int instead"),
    (lambda: random_step_fgsm(BOWL, X, 0.3, alpha=0.4, signs=[[1, 0]]), ValueError, "^alpha"),
    (lambda: random_step_fgsm(Broken(), X, 0.25), ValueError, "^the model's input gradient"),
])
def test_bad_arguments_are_refused_by_name(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_the_variants_resolve_their_defaults_in_one_place():
    """iterative_settings and random_step_settings are what the attacks use (the CLI
    records them): 2.5 * .25 / 10 = .0625 and .3 / 2 = .15 exactly, and an attack
    given the resolved value explicitly returns the same bits."""
    from advref.attacks.iterative import iterative_settings, random_step_settings

    assert iterative_settings(0.25) == {"steps": 10, "step_size": 0.0625}
    assert iterative_settings(0.2, 4, 0.01) == {"steps": 4, "step_size": 0.01}
    assert random_step_settings(0.3) == {"alpha": 0.15}
    with pytest.raises(ValueError, match="alpha must be <= eps"):
        random_step_settings(0.1, 0.2)
    with pytest.raises(ValueError, match="steps"):
        iterative_settings(0.1, 0)
    model = SoftmaxRegression(6, 3, rng=1, init_scale=1.0)
    x = np.random.default_rng(0).random((5, 6))
    y = np.arange(5) % 3
    assert np.array_equal(iterative_fgsm(model, x, 0.25, y=y, steps=3),
                          iterative_fgsm(model, x, 0.25, y=y, steps=3,
                                         step_size=2.5 * 0.25 / 3))
    assert np.array_equal(random_step_fgsm(model, x, 0.3, y=y, rng=2),
                          random_step_fgsm(model, x, 0.3, y=y, alpha=0.15, rng=2))
