"""advref.analysis.saturation on a model whose saturation is known by construction."""

import numpy as np
import pytest

from advref import models
from advref.analysis.saturation import printed_softmax_loss, saturation, with_printed_softmax


def two_class_model():
    """z = (50 x + 40, x): d_x = p_1 (1 - 50) < 0 exactly, but p_1 > 0 under the printed
    gradient (dz_0 = 0 once p_0 rounds to 1, at a margin over ~37)."""
    model = models.SoftmaxRegression(1, 2, rng=0)
    model.params["W"][:] = [[50.0, 1.0]]
    model.params["b"][:] = [40.0, 0.0]
    return model


def test_saturation_counts_what_the_construction_gives():
    model = two_class_model()
    # margins 49 x + 40: 64.5 (saturated), 15.5 and 3.5 (not); all labelled class 0,
    # and a row labelled 1 whose p_1 is ~e^-64.5, far from 1
    x = np.array([[0.5], [-0.5], [-0.745], [0.5]])
    y = np.array([0, 0, 0, 1])
    got = saturation(model, x, y, eps=0.25, clip=None)
    assert got == {"n": 4, "dtype": "float64", "eps": 0.25, "saturated": 1,
                   "top_saturated": 2, "fgsm_changed": 1, "coords_changed": 1,
                   # exact: 0.5 -> 0.25 (margin 52.25), -0.5 -> -0.75 (3.25), -0.745 ->
                   # -0.995 (-8.755: class 1); row 3 goes to 0.75, still class 0 (wrong)
                   "error_exact": 2 / 4, "error_printed": 2 / 4}


def test_printed_loss_is_the_framework_formula_by_hand():
    z = np.array([[np.log(3.0), 0.0], [40.0, 0.0]])
    losses, dz = printed_softmax_loss(z, np.array([0, 0]))
    np.testing.assert_allclose(losses[0], np.log(4 / 3), rtol=1e-15)
    np.testing.assert_allclose(dz[0], [-0.25, 0.25], rtol=1e-15)
    assert losses[1] == 0.0 and dz[1, 0] == 0.0          # the lost terms, ~4e-18


def test_a_model_without_softmax_is_refused_by_name():
    with pytest.raises(ValueError, match="model must have a softmax output, got 'sigmoid'"):
        with_printed_softmax(models.LogisticRegression(3))
