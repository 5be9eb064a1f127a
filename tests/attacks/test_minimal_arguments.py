"""minimal_perturbation's arguments: what it refuses, and the settings it records.

Each MinimalResult carries `settings`, "everything needed to reproduce it"; the
expected dicts below are written out by hand from the docstrings (DEFAULTS, the
tolerances by dtype of paper-notes, the fixed method and penalty).
"""

import os

import numpy as np
import pytest

from advref import minimal_perturbation
from advref.models import SoftmaxRegression

BY_HAND = {"c_init": 1.0, "c_factor": 10.0, "max_scale": 12, "bisect_steps": 10,
           "maxiter": 300, "clip": (0.0, 1.0), "method": "L-BFGS-B",
           "penalty": "c * ||r||_2^2"}


@pytest.fixture
def problem():
    rng = np.random.default_rng(3)
    return SoftmaxRegression(4, 3, rng=0), rng.random((1, 4)) * 0.5 + 0.25


def recorded(model, x, **kw):
    (result,) = minimal_perturbation(model, x, target=2, max_scale=1, bisect_steps=0,
                                     maxiter=5, **kw)
    return result.settings


@pytest.mark.scipy
@pytest.mark.parametrize("dtype, ftol, gtol", [(np.float64, 1e-12, 1e-9),
                                               (np.float32, 1e-6, 1e-5)])
def test_the_recorded_settings_are_the_defaults_with_tolerances_by_dtype(problem, dtype,
                                                                         ftol, gtol):
    _, x = problem
    settings = recorded(SoftmaxRegression(4, 3, rng=0, dtype=dtype), x.astype(dtype))
    assert settings == {**BY_HAND, "max_scale": 1, "bisect_steps": 0, "maxiter": 5,
                        "ftol": ftol, "gtol": gtol}


@pytest.mark.scipy
def test_given_tolerances_and_c_settings_are_recorded_as_python_floats(problem):
    model, x = problem
    settings = recorded(model, x, ftol=1e-3, gtol=np.float32(0.5), c_init=np.float32(0.25),
                        c_factor=4)
    assert settings == {**BY_HAND, "max_scale": 1, "bisect_steps": 0, "maxiter": 5,
                        "ftol": 1e-3, "gtol": 0.5, "c_init": 0.25, "c_factor": 4.0}
    for name in ("ftol", "gtol", "c_init", "c_factor"):
        assert type(settings[name]) is float, name


@pytest.mark.scipy
def test_the_untargeted_record_names_its_mode(problem):
    model, x = problem
    (result,) = minimal_perturbation(model, x, candidates=1, max_scale=1, bisect_steps=0,
                                     maxiter=5)
    assert result.settings["mode"] == "untargeted: the 1 highest-scoring wrong classes, " \
                                      "smallest kept"
    (result,) = minimal_perturbation(model, x, max_scale=1, bisect_steps=0, maxiter=5)
    assert result.settings["mode"] == "untargeted: every other class, smallest kept"


def test_unknown_options_are_refused_by_name(problem):
    model, x = problem
    with pytest.raises(TypeError) as info:
        minimal_perturbation(model, x, c_int=1.0, eps=2)
    assert str(info.value) == ("unknown options ['c_int', 'eps']; known: ['bisect_steps', "
                               "'c_factor', 'c_init', 'ftol', 'gtol', 'max_scale', 'maxiter']")


REFUSALS = [
    ({"y": [3]}, ValueError, "y must be class indices in [0, 3), got values from 3 to 3 instead."),
    ({"target": 3}, ValueError,
     "target must be class indices in [0, 3), got values from 3 to 3 instead."),
    ({"target": [-1]}, ValueError,
     "target must be class indices in [0, 3), got values from -1 to -1 instead."),
    ({"candidates": 3}, ValueError,
     "candidates must be None or an integer in [1, 2], got 3 instead."),
    ({"candidates": 0}, ValueError,
     "candidates must be None or an integer in [1, 2], got 0 instead."),
    ({"candidates": 1.5}, TypeError,
     "candidates must be None or an integer, got float 1.5 instead."),
    ({"candidates": True}, TypeError,
     "candidates must be None or an integer, got bool True instead."),
    ({"batch": 0}, ValueError, "batch must be an integer in [1, 2147483647], got 0 instead."),
    ({"max_scale": -1}, ValueError,
     "max_scale must be an integer in [0, 2147483647], got -1 instead."),
    ({"bisect_steps": -1}, ValueError,
     "bisect_steps must be an integer in [0, 2147483647], got -1 instead."),
    ({"ftol": 0.0}, ValueError, "ftol must be > 0.0, got 0.0 instead."),
    ({"gtol": -1.0}, ValueError, "gtol must be > 0.0, got -1.0 instead."),
    ({"c_factor": 1.0}, ValueError, "c_factor must be > 1.0, got 1.0 instead."),
    ({"c_factor": 0.5}, ValueError, "c_factor must be > 1.0, got 0.5 instead."),
]


class NoClassCount:
    """A model that does not say its class count: advref reads it from predict_proba."""

    def __init__(self, model):
        self.model = model

    def loss_grad(self, x, y):
        return self.model.loss_grad(x, y)

    def predict(self, x):
        return self.model.predict(x)

    def predict_proba(self, x):
        return self.model.predict_proba(x)


@pytest.mark.parametrize("wrap", [False, True])
@pytest.mark.parametrize("options, error, message", REFUSALS)
def test_every_refusal_names_its_argument(problem, wrap, options, error, message):
    model, x = problem
    with pytest.raises(error) as info:
        minimal_perturbation(NoClassCount(model) if wrap else model, x, **options)
    assert str(info.value) == message


@pytest.mark.scipy
def test_the_smallest_accepted_settings_run(problem):
    """c_factor just above 1, no scaling and no bisection: one solve at c_init."""
    model, x = problem
    (result,) = minimal_perturbation(model, x, target=2, c_factor=1.5, max_scale=0,
                                     bisect_steps=0, ftol=1e-3, gtol=1e-3, maxiter=1)
    assert result.settings["c_factor"] == 1.5 and result.settings["max_scale"] == 0


@pytest.mark.scipy
def test_a_scipy_without_the_driven_interface_solves_one_at_a_time(problem, monkeypatch):
    """batch= falls back to the one-example search, with a warning pointing at the
    caller's line."""
    import advref.attacks.minimal as minimal

    model, x = problem
    want = minimal_perturbation(model, x, target=2, max_scale=2, bisect_steps=1, maxiter=20)
    monkeypatch.setattr(minimal, "reverse_communication_works", lambda: False)
    with pytest.warns(RuntimeWarning) as record:
        got = minimal_perturbation(model, x, target=2, max_scale=2, bisect_steps=1,
                                   maxiter=20, batch=4)
    (warning,) = record
    assert str(warning.message) == (
        "minimal_perturbation: this SciPy's L-BFGS-B reverse-communication interface is "
        "not the one advref drives (SciPy >= 1.15), so batch= is ignored and the examples "
        "are solved one at a time.")
    if "MUTANT_UNDER_TEST" in os.environ:    # mutmut calls through one trampoline frame
        assert warning.filename not in (minimal.__file__, __file__)
    else:
        assert warning.filename == __file__
    assert got[0].summary() == want[0].summary()
    np.testing.assert_array_equal(got[0].x_adv, want[0].x_adv)


@pytest.mark.parametrize("c_init", [0, 0.0, -1.0])
def test_a_penalty_that_is_not_positive_is_refused(problem, c_init):
    model, x = problem
    with pytest.raises(ValueError) as info:
        minimal_perturbation(model, x, c_init=c_init)
    assert str(info.value) == f"c_init must be > 0.0, got {c_init!r} instead."


@pytest.mark.scipy
def test_data_outside_the_clip_box_is_refused_unless_clip_is_none(problem):
    model, x = problem
    outside = x.copy()
    outside[0, 1] = 1.5
    with pytest.raises(ValueError, match=r"^x must lie inside the clip box \[0.0, 1.0\]"):
        minimal_perturbation(model, outside, target=2, maxiter=5)
    (result,) = minimal_perturbation(model, outside, target=2, clip=None, max_scale=1,
                                     bisect_steps=0, maxiter=5)
    assert result.settings["clip"] is None


class Ramp:
    """loss(x, t) = -w.x, a loss that never saturates: small c drives every pixel to
    a face of the box (pixels with w > 0 up, w < 0 down)."""

    n_classes = 2

    def __init__(self, w):
        self.w = w

    def loss_grad(self, x, y):
        return -(x @ self.w), np.broadcast_to(-self.w, x.shape).copy()

    def predict(self, x):
        return (x @ self.w > 0).astype(int)

    def predict_proba(self, x):
        raise AssertionError("a targeted search needs no scores")


@pytest.mark.scipy
@pytest.mark.parametrize("batch", [None, 2])
def test_points_pushed_onto_the_box_faces_stay_inside_the_float32_box(batch):
    """The solver works on r in float64 within [lo - x, hi - x]; x + float32(r) can
    round past a face (float32(.95) < .95 and float32(.07) > .07 here, so the
    rounding is checked first), and the result is clipped back onto the box."""
    rng = np.random.default_rng(0)
    w = np.where(np.arange(400) % 2, 1.0, -1.0).astype(np.float32)
    x = (rng.random((2, 400)) * 0.8 + 0.1).astype(np.float32)
    lo, hi = 0.07, 0.95
    unclipped_hi = x + (hi - x.astype(np.float64)).astype(np.float32)
    unclipped_lo = x + (lo - x.astype(np.float64)).astype(np.float32)
    assert (unclipped_hi > np.float32(hi)).any() and (unclipped_lo < np.float32(lo)).any()
    results = minimal_perturbation(Ramp(w), x, target=1, clip=(lo, hi), c_init=1e-3,
                                   max_scale=1, bisect_steps=0, batch=batch)
    for result in results:
        assert result.success
        up, down = result.x_adv[w > 0], result.x_adv[w < 0]
        assert up.max() == np.float32(hi) and down.min() == np.float32(lo)
        assert (up == np.float32(hi)).mean() > 0.5 and (down == np.float32(lo)).mean() > 0.5
