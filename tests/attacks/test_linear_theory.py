"""The paper's linear explanation, as exact tests on linear scores w.x."""

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from advref import fgsm, linear_minimal_perturbation, minimal_perturbation, optimize_linear
from advref.models import LogisticRegression, SoftmaxRegression

finite = st.floats(-10, 10, allow_nan=False, width=64)
TINY = np.nextafter(0.0, 1.0)          # float64's smallest subnormal, 5e-324


def l2_norm(v):
    """||v||_2 measured without underflow: squaring a step of size 1e-156 would
    fall into the subnormals and lose digits, so scale by max|v| first (dnrm2)."""
    top = np.abs(v).max()
    return 0.0 if top == 0 else top * np.sqrt(((v / top) ** 2).sum())


def within_rounding(eps, d):
    """The norm bound as floating point can hold it: a relative error for rounding
    (generous at 1e-12), plus, below the normal range, one subnormal step per
    coordinate (each entry of a step of size ~ eps/d rounds to a multiple of
    TINY: fl(a) = a (1 + delta) + eta with |eta| <= TINY / 2, Higham's model with
    underflow)."""
    return eps * (1 + 1e-12) + d * TINY


@st.composite
def linear_case(draw):
    d = draw(st.integers(1, 50))
    w = draw(hnp.arrays(np.float64, d, elements=finite))
    x = draw(hnp.arrays(np.float64, d, elements=finite))
    eps = draw(st.floats(0, 5, allow_nan=False))
    return w, x, eps


@given(linear_case())
def test_sign_step_raises_linear_score_by_eps_l1(case):
    w, x, eps = case
    eta = optimize_linear(w[None], eps, np.inf)[0]
    gain = w @ (x + eta) - w @ x
    np.testing.assert_allclose(gain, eps * np.abs(w).sum(), rtol=1e-9, atol=1e-9)
    assert np.abs(eta).max() <= eps


@given(linear_case(), st.integers(0, 2**32 - 1))
def test_no_vertex_of_the_box_does_better(case, seed):
    w, x, eps = case
    best = w @ optimize_linear(w[None], eps, np.inf)[0]
    vertices = np.random.default_rng(seed).choice([-eps, eps], size=(200, len(w)))
    assert (vertices @ w <= best + 1e-9).all()


@given(linear_case())
@example((np.ones(1), np.zeros(1), 1.0541266064289253e-156))   # eta . eta is subnormal
def test_l2_step_gains_eps_l2(case):
    w, x, eps = case
    eta = optimize_linear(w[None], eps, 2)[0]
    expected = eps * np.sqrt(w @ w)
    np.testing.assert_allclose(w @ eta, expected, rtol=1e-9, atol=1e-9)
    assert l2_norm(eta) <= within_rounding(eps, len(w))


@given(linear_case())
@example((np.ones(5), np.zeros(5), 2.2250738585e-313))   # ties share a subnormal budget
def test_l1_step_gains_eps_linf(case):
    w, x, eps = case
    eta = optimize_linear(w[None], eps, 1)[0]
    np.testing.assert_allclose(w @ eta, eps * np.abs(w).max(), rtol=1e-9, atol=1e-9)
    assert np.abs(eta).sum() <= within_rounding(eps, len(w))


def test_l1_ties_share_the_budget():
    eta = optimize_linear(np.array([[3.0, -3.0, 1.0, 0.0]]), 0.5, 1)
    np.testing.assert_array_equal(eta, [[0.25, -0.25, 0.0, 0.0]])


@pytest.mark.parametrize("norm", [np.inf, 2, 1])
def test_zero_gradient_gives_zero_step(norm):
    assert not optimize_linear(np.zeros((2, 5)), 0.3, norm).any()


@given(st.integers(0, 2**32 - 1), st.floats(0.01, 0.5))
def test_gain_grows_linearly_with_dimension(seed, eps):
    """At fixed mean |w_i| = m the sign step's gain is eps * m * n: linear in n."""
    rng = np.random.default_rng(seed)
    m = 0.3
    gains = []
    for n in (10, 100, 1000):
        w = m * rng.choice([-1.0, 1.0], n)
        gains.append(w @ optimize_linear(w[None], eps, np.inf)[0])
    np.testing.assert_allclose(gains, [eps * m * n for n in (10, 100, 1000)], rtol=1e-12)


@given(st.integers(0, 2**32 - 1), st.floats(0.0, 1.0), st.integers(1, 30))
def test_logistic_fgsm_is_minus_eps_s_sign_w(seed, eps, d):
    rng = np.random.default_rng(seed)
    model = LogisticRegression(d, rng=seed % 1000)
    model.params["W"] = rng.standard_normal((d, 1))
    x = rng.random((5, d))
    y = rng.integers(0, 2, 5)
    s = (2 * y - 1)[:, None]
    expected = x - eps * s * np.sign(model.w)[None, :]
    np.testing.assert_allclose(fgsm(model, x, eps, y=y, clip=None), expected, rtol=0,
                               atol=1e-15)


@given(st.integers(0, 2**32 - 1), st.floats(0.01, 1.0))
def test_targeted_step_raises_target_probability_on_logistic_regression(seed, eps):
    """Binary linear model: the step moves s*z by eps*||w||_1, so p(target) rises for any eps."""
    rng = np.random.default_rng(seed)
    model = LogisticRegression(8, rng=seed % 1000)
    model.params["W"] = rng.standard_normal((8, 1))
    x = rng.random((6, 8))
    t = rng.integers(0, 2, 6)
    before = model.predict_proba(x)[np.arange(6), t]
    after = model.predict_proba(fgsm(model, x, eps, y=t, targeted=True, clip=None))
    assert (after[np.arange(6), t] > before).all()


@given(st.integers(0, 2**32 - 1), st.floats(0.0, 1.0))
def test_targeted_step_on_softmax_raises_the_linearised_log_probability(seed, eps):
    """log p_t is concave in x, so a large step may overshoot; its linearisation at x,
    z_t(x') - p(x) . z(x'), rises by exactly eps * ||W (e_t - p)||_1."""
    rng = np.random.default_rng(seed)
    model = SoftmaxRegression(8, 4, rng=seed % 1000)
    W = model.params["W"] = rng.standard_normal((8, 4))
    x = rng.random((6, 8))
    t = rng.integers(0, 4, 6)
    p = model.predict_proba(x)
    x_adv = fgsm(model, x, eps, y=t, targeted=True, clip=None)
    onehot = np.eye(4)[t]
    linearised_gain = (((x_adv - x) @ W) * (onehot - p)).sum(axis=1)
    expected = eps * np.abs((onehot - p) @ W.T).sum(axis=1)
    np.testing.assert_allclose(linearised_gain, expected, rtol=1e-9, atol=1e-12)


@pytest.mark.scipy
@pytest.mark.parametrize("batch", [None, 2])
@pytest.mark.parametrize("seed", range(4))
def test_minimal_perturbation_meets_the_closed_form(seed, batch):
    rng = np.random.default_rng(seed)
    d = 30
    model = LogisticRegression(d)
    model.params["W"] = 0.5 * rng.standard_normal((d, 1))
    model.params["b"] = np.array([0.1])
    x = 0.45 + 0.1 * rng.random((3, d))   # near the box's middle
    r_exact, size = linear_minimal_perturbation(model.w, model.b, x, 2)
    assert ((x + r_exact > 0) & (x + r_exact < 1)).all()   # the box is not active
    results = minimal_perturbation(model, x, batch=batch)
    for res, exact, xi in zip(results, size, x, strict=True):
        assert res.success and res.reached != model.predict(xi[None])[0]
        assert exact <= res.l2 <= 1.01 * exact
        assert res.settings["method"] == "L-BFGS-B" and res.iterations > 0


@pytest.mark.scipy
@pytest.mark.parametrize("batch", [None, 1, 5])
def test_minimal_perturbation_never_claims_a_failure_as_success(batch):
    model = SoftmaxRegression(4, 3)
    model.params["W"] = np.array([[50.0, 0, 0]] * 4)   # class 0 dominates the whole box
    model.params["b"] = np.array([100.0, 0, 0])
    x = np.full((2, 4), 0.5)
    for res in minimal_perturbation(model, x, target=1, max_scale=3, bisect_steps=2,
                                    batch=batch):
        assert not res.success and res.reached == 0 and np.isnan(res.l2)
        assert model.predict(res.x_adv[None])[0] == res.reached
        assert (res.x_adv >= 0).all() and (res.x_adv <= 1).all()


@pytest.mark.scipy
@pytest.mark.parametrize("batch", [None, 3])
@pytest.mark.parametrize("seed", range(3))
def test_success_means_the_model_says_so(seed, batch):
    rng = np.random.default_rng(seed)
    model = SoftmaxRegression(6, 3)
    model.params["W"] = rng.standard_normal((6, 3))
    x = rng.random((4, 6))
    for target in (None, 2):
        for res, xi in zip(minimal_perturbation(model, x, target=target, batch=batch), x,
                           strict=True):
            reached = model.predict(res.x_adv[None])[0]
            assert res.reached == reached
            if res.success and target is not None:
                assert reached == target   # r ~ 0 when x is already of the target class
            if res.success and target is None:
                assert reached != model.predict(xi[None])[0]
                np.testing.assert_allclose(res.l2, np.linalg.norm(res.x_adv - xi), rtol=1e-12)


def test_linear_minimal_perturbation_norms():
    w, b = np.array([3.0, -4.0]), 1.0
    r, s = linear_minimal_perturbation(w, b, np.array([[1.0, 1.0]]), 2)   # on the plane
    assert s[0] == 0 and not r.any()
    x = np.array([[2.0, 0.0]])                                           # score 7
    for norm, expected in ((2, 7 / 5), (np.inf, 7 / 7), (1, 7 / 4)):
        r, s = linear_minimal_perturbation(w, b, x, norm)
        np.testing.assert_allclose(s, [expected])
        np.testing.assert_allclose((x + r) @ w + b, [0.0], atol=1e-12)


@pytest.mark.scipy
@pytest.mark.parametrize("batch", [None, 4])
def test_untargeted_candidates_rule_is_recorded_and_limits_the_classes(batch):
    rng = np.random.default_rng(7)
    model = SoftmaxRegression(6, 4)
    model.params["W"] = rng.standard_normal((6, 4))
    x = rng.random((3, 6))
    proba = model.predict_proba(x)
    for res, p in zip(minimal_perturbation(model, x, candidates=1, batch=batch), proba,
                      strict=True):
        assert "the 1 highest-scoring wrong classes" in res.settings["mode"]
        runner_up = [int(t) for t in np.argsort(-p) if t != p.argmax()][0]
        assert res.target == runner_up
    with pytest.raises(ValueError, match="candidates must be None or an integer"):
        minimal_perturbation(model, x, candidates=4)


def test_linear_minimal_perturbation_defaults_dtype_and_refusals():
    w, b = np.array([3.0, -4.0]), 1.0
    r, s = linear_minimal_perturbation(w, b, [[2.0, 0.0]])        # a list; norm 2 by default
    np.testing.assert_allclose(s, [7 / 5])
    np.testing.assert_allclose(r, [[-0.84, 1.12]])          # -(w.x + b) w / ||w||^2
    r_int, s_int = linear_minimal_perturbation(w[:, None], 1, [[2, 0]])   # ints, a column w
    assert r_int.dtype == np.float64 and r_int.shape == (1, 2)
    np.testing.assert_allclose(s_int, [7 / 5])
    x32 = np.array([[2.0, 0.0]], dtype=np.float32)
    r32, s32 = linear_minimal_perturbation(w, b, x32)
    assert r32.dtype == np.float32 and s32.dtype == np.float32
    np.testing.assert_allclose(s32, [7 / 5], rtol=1e-6)
    for bad in (np.zeros(2), np.array([1.0, 2.0, 3.0])):
        with pytest.raises(ValueError, match=r"w must be a nonzero vector of length 2, got "):
            linear_minimal_perturbation(bad, b, x32)


@pytest.mark.scipy
@pytest.mark.parametrize("batch", [None, 3])
def test_untargeted_tries_tied_classes_in_class_order(batch):
    """targets_to_try sorts by score with a stable sort: among 40 classes on three
    tied levels (beyond numpy's insertion-sort cutoff, where quicksort reorders
    ties) equal scores keep class order, as Python's sorted by (-p, class) says."""
    from advref.attacks.minimal_search import targets_to_try

    proba = np.array([(7 * t) % 3 for t in range(40)]) / 3.0     # three tied levels
    want = sorted((t for t in range(40) if t != 7), key=lambda t: (-proba[t], t))
    assert targets_to_try(7, proba, None) == want
    assert targets_to_try(7, proba, 3) == want[:3]
    assert targets_to_try(7, np.full(40, 1 / 40), None) == [t for t in range(40) if t != 7]
    model = SoftmaxRegression(2, 40)
    model.params["W"] = np.zeros((2, 40))
    res = minimal_perturbation(model, np.full((1, 2), 0.5), y=[0], candidates=2,
                               max_scale=1, bisect_steps=0, batch=batch)[0]
    assert not res.success and res.target == 1    # x cannot move; the first try is kept


@pytest.mark.scipy
@pytest.mark.parametrize("batch", [None, 2])
def test_untargeted_with_no_success_reports_the_first_try(batch):
    """When no class can be reached the result is the first class tried (the
    highest-scoring wrong one), marked as a failure, with every try's iterations."""
    model = SoftmaxRegression(4, 3)
    model.params["W"] = np.array([[50.0, 0, 0]] * 4)   # class 0 dominates the whole box
    model.params["b"] = np.array([100.0, 0, 1.0])      # class 2 scores above class 1
    x = np.full((1, 4), 0.5)
    untargeted = minimal_perturbation(model, x, max_scale=2, bisect_steps=1, batch=batch)[0]
    tries = [minimal_perturbation(model, x, target=t, max_scale=2, bisect_steps=1)[0]
             for t in (2, 1)]
    assert not untargeted.success and untargeted.target == 2
    assert untargeted.iterations == sum(t.iterations for t in tries)
    assert "every other class" in untargeted.settings["mode"]
