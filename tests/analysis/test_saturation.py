"""advref.analysis.saturation on a model whose saturation is known by construction."""

import numpy as np
import pytest

from advref import models
from advref.analysis.saturation import printed_softmax_loss, saturation, with_printed_softmax


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_saturation_counts_what_the_construction_gives(dtype):
    """Margins 49 x + 40 for class 0, by row (x; label): 64.5 (0.5; 0) and 69.4 (0.6; 0)
    saturate p_y; 15.5 (-0.5; 0), 3.5 (-0.745; 0) and 10.6 (-0.6; 0) do not; 64.5
    (0.5; 1) and 84.1 (0.9; 1) saturate the top class, not the label's. In batches of
    two, with the box [-1, 1]."""
    model = models.SoftmaxRegression(1, 2, rng=0, dtype=dtype)
    model.params["W"][:] = [[50.0, 1.0]]
    model.params["b"][:] = [40.0, 0.0]
    x = np.array([[0.5], [0.6], [-0.5], [-0.745], [0.5], [0.9], [-0.6], [-0.745]], dtype)
    y = np.array([0, 0, 0, 0, 1, 1, 0, 1])
    got = saturation(model, x, y, eps=0.25, clip=(-1.0, 1.0), batch=2)
    # FGSM, exact: rows 0 and 1 (one batch) step down (to .25 and .35, still class 0);
    # the printed gradient steps them up instead. Row 2 -> -.75 (class 0), row 3 ->
    # -.995 and row 6 -> -.85 (class 1: wrong); rows 4, 5 and 7 step up (row 5
    # clipped at 1; row 7, labelled 1 but predicted 0, to -.495) and are class 0
    # (wrong): 5 of 8 wrong either way. Attacking row 7's prediction instead of its
    # label would step it down.
    assert got == {"n": 8, "dtype": np.dtype(dtype).name, "eps": 0.25, "saturated": 2,
                   "top_saturated": 4, "fgsm_changed": 2, "coords_changed": 2,
                   "error_exact": 5 / 8, "error_printed": 5 / 8}
    assert saturation(model, x[:1], y[:1], clip=None)["eps"] == 0.25      # the default


def test_printed_loss_is_the_framework_formula_by_hand():
    z = np.array([[np.log(3.0), 0.0], [40.0, 0.0]])
    losses, dz = printed_softmax_loss(z, np.array([0, 0]))
    np.testing.assert_allclose(losses[0], np.log(4 / 3), rtol=1e-15)
    np.testing.assert_allclose(dz[0], [-0.25, 0.25], rtol=1e-15)
    assert losses[1] == 0.0 and dz[1, 0] == 0.0          # the lost terms, ~4e-18
    # a wrong label's loss is its margin too, and a large score does not overflow
    losses, _ = printed_softmax_loss(np.array([[np.log(3.0), 0.0], [800.0, 0.0]]),
                                     np.array([1, 1]))
    np.testing.assert_allclose(losses, [np.log(4.0), 800.0], rtol=1e-15)


def test_a_model_without_softmax_is_refused_by_name():
    with pytest.raises(ValueError, match="model must have a softmax output, got 'sigmoid'"):
        with_printed_softmax(models.LogisticRegression(3))
    unnamed = models.SoftmaxRegression(3, 2)
    unnamed.output = object()                        # an output kind without a name
    with pytest.raises(ValueError, match="model must have a softmax output, got 'object'"):
        with_printed_softmax(unnamed)
