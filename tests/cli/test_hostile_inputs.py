"""Issue 14's listed cases that the fuzz test does not name one by one."""

import numpy as np
import pytest

from advref import evaluate, minimal_perturbation, rubbish_samples, transfer
from advref.models import LogisticRegression, MaxoutMLP, SoftmaxRegression
from advref.training import adversarial_logistic_loss, train


@pytest.fixture
def softmax():
    rng = np.random.default_rng(0)
    return SoftmaxRegression(4, 3, rng=0), rng.random((6, 4)), np.array([0, 1, 2, 0, 1, 2])


def test_validation_data_needs_both_halves(softmax):
    model, x, y = softmax
    with pytest.raises(ValueError, match="got y_valid=None"):
        train(model, x, y, epochs=1, x_valid=x, log=None)
    with pytest.raises(ValueError, match="got x_valid=None"):
        train(model, x, y, epochs=1, y_valid=y, log=None)


def test_labels_none_wrong_length_or_one_hot_are_refused(softmax):
    model, x, y = softmax
    with pytest.raises(ValueError, match=r"y must have shape \(6,\)"):
        evaluate(model, x, y[:5])
    with pytest.raises(ValueError, match="one-hot"):
        evaluate(model, x, np.eye(3, dtype=int)[y])
    with pytest.raises(ValueError, match="y must have shape"):
        transfer(model, [model], x, None, 0.1)


def test_matrix_and_masked_arrays_are_refused(softmax):
    model, x, y = softmax
    for odd in (np.asmatrix(x), np.ma.masked_array(x)):
        with pytest.raises(TypeError, match="plain numpy array"):
            evaluate(model, odd, y)


def test_integer_dtype_for_rubbish_samples_is_refused(softmax):
    _, x, _ = softmax
    with pytest.raises(TypeError, match="dtype must be float32 or float64, got int64"):
        rubbish_samples(5, x_train=x, rng=0, dtype=np.int64)


def test_adversarial_logistic_loss_needs_a_logistic_model(softmax):
    model, x, y = softmax
    with pytest.raises(TypeError, match="binary logistic regression, got a SoftmaxRegression"):
        adversarial_logistic_loss(model, x, y, 0.1)
    loss, _ = adversarial_logistic_loss(LogisticRegression(4), x, y % 2, 0.1)
    assert np.isfinite(loss)


def test_binary_transfer_target_on_ten_class_data_is_refused(softmax):
    model, x, y = softmax
    with pytest.raises(ValueError, match="transfer target target0 must have the source's 3"):
        transfer(model, [LogisticRegression(4)], x, y, 0.1)


@pytest.mark.scipy
def test_candidates_as_a_numpy_integer_are_accepted(softmax):
    model, x, y = softmax
    a = minimal_perturbation(model, x[:1], y=y[:1], candidates=np.int64(2), maxiter=20)
    b = minimal_perturbation(model, x[:1], y=y[:1], candidates=2, maxiter=20)
    assert a[0].summary() == b[0].summary()
    with pytest.raises(ValueError, match="maxiter must be an integer in"):
        minimal_perturbation(model, x[:1], maxiter=0)


def test_units_as_a_bare_int_is_refused():
    with pytest.raises(TypeError, match=r"units must be a tuple of integers, e.g. \(240,\)"):
        MaxoutMLP(4, 3, units=240)
