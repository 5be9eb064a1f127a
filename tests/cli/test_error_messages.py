"""Every refusal names what it refuses: the argument (or the function that needs a
model method) comes first in the message, exactly as the caller wrote it.

Each case below is one bad call and the exact start of its message; the messages
follow "NAME must ..., got X instead." (advref/_validation.py).
"""

import numpy as np
import pytest

from advref.analysis.geometry import adversarial_subspace, cross_section, logit_path
from advref.analysis.metrics import error_rate, evaluate
from advref.analysis.transferability import transfer
from advref.attacks.fast_gradient import fgsm, optimize_linear
from advref.attacks.noise import random_sign, random_uniform
from advref.attacks.rubbish import rubbish_report, rubbish_samples
from advref.fitting.spec import Objective
from advref.models import SoftmaxRegression
from advref.training.monitors import resolve_monitor
from advref.training.objectives import noise

X = np.full((2, 3), 0.5)
Y = np.array([0, 1])
MODEL = SoftmaxRegression(3, 2)


class OnlyLossGrad:
    """Has loss_grad and nothing else: fgsm with given labels needs no more."""

    def loss_grad(self, x, y):
        return np.zeros(len(x)), np.ones_like(x)


class NoClassCount:
    """A protocol model without n_classes: its class count is predict_proba's width."""

    def predict_proba(self, x):
        return np.tile([0.25, 0.75, 0.0], (len(x), 1))

    def predict(self, x):
        return np.ones(len(x), np.int64)

    def loss_grad(self, x, y):
        return np.zeros(len(x)), np.ones_like(x)


class NaNGradient(NoClassCount):
    def loss_grad(self, x, y):
        return np.zeros(len(x)), np.full_like(x, np.nan)


CASES = [
    # functions that need model methods say who they are
    (lambda: fgsm(object(), X, 0.1, y=Y), TypeError, "fgsm needs a model with loss_grad"),
    (lambda: fgsm(OnlyLossGrad(), X, 0.1), TypeError,
     "fgsm needs a model with loss_grad, predict"),
    (lambda: error_rate(object(), X, Y), TypeError, "error_rate needs a model with predict"),
    (lambda: evaluate(object(), X, Y), TypeError, "evaluate needs a model with predict"),
    (lambda: transfer(object(), {}, X, Y, 0.1), TypeError, "transfer source needs a model"),
    (lambda: transfer(MODEL, {"t": object()}, X, Y, 0.1), TypeError,
     "transfer target t needs a model"),
    (lambda: adversarial_subspace(object(), X, Y, 0.1, 2), TypeError,
     "adversarial_subspace needs a model"),
    (lambda: rubbish_report(object(), X), TypeError, "rubbish_report needs a model with "
     "predict_proba, predict (models.base)"),
    (lambda: rubbish_report(NoClassCount.__new__(type("P", (), {
        "predict_proba": NoClassCount.predict_proba, "predict": NoClassCount.predict})), X,
        eps=0.1, target=0), TypeError,
     "rubbish_report needs a model with predict_proba, predict, loss_grad"),
    # labels are checked against the model's class count, from predict_proba's width
    # when the model does not say
    (lambda: fgsm(NoClassCount(), X, 0.1, y=np.array([0, 3])), ValueError,
     "y must be class indices in [0, 3)"),
    (lambda: error_rate(NoClassCount(), X, np.array([3, 0])), ValueError,
     "y must be class indices in [0, 3)"),
    (lambda: evaluate(NoClassCount(), X, np.array([3, 0])), ValueError,
     "y must be class indices in [0, 3)"),
    (lambda: transfer(NoClassCount(), {}, X, np.array([3, 0]), 0.1), ValueError,
     "y must be class indices in [0, 3)"),
    (lambda: transfer(NoClassCount(), {"two": MODEL}, X, Y, 0.1), ValueError,
     "transfer target two must have the source's 3 classes, got 2 instead."),
    (lambda: rubbish_report(NoClassCount(), X, eps=0.1, target=3), ValueError,
     "target must be class indices in [0, 3)"),
    # the model's own output is checked as well
    (lambda: fgsm(NaNGradient(), X, 0.1, y=Y), ValueError,
     "the model's input gradient must be finite"),
    (lambda: fgsm(MODEL, X, 0.1, targeted=True), ValueError,
     "targeted=True needs the target classes y, got y=None instead."),
    # arguments
    (lambda: optimize_linear(np.ones(3), 0.1), ValueError, "grad must be 2-D"),
    (lambda: cross_section(MODEL, X[0], X[0], X[0], 1.0, 1), ValueError,
     "steps must be an integer in [2, "),
    (lambda: adversarial_subspace(MODEL, X, Y, 0.1, 0), ValueError, "k must be an integer"),
    (lambda: adversarial_subspace(MODEL, X, Y, 0.1, 4), ValueError, "k must be"),
    (lambda: rubbish_samples(0, x_train=X, rng=0), ValueError, "n must be an integer"),
    (lambda: rubbish_samples(2, rng=0), ValueError,
     "rubbish_samples needs x_train (for the dimension, and for the fit with "
     "source='gaussian-fit'), got None instead."),
    (lambda: rubbish_samples(2, x_train=np.ones(3), rng=0), ValueError, "x_train must be 2-D"),
    (lambda: rubbish_samples(2, x_train=X, rng=0, dtype=np.int32), TypeError,
     "dtype must be float32 or float64"),
    (lambda: rubbish_report(MODEL, np.ones(3)), ValueError, "samples must be 2-D"),
    (lambda: rubbish_report(MODEL, X, threshold=-0.1), ValueError, "threshold must be in [0.0, "
     "1.0]"),
    (lambda: rubbish_report(MODEL, X, threshold=1.5), ValueError, "threshold must be in [0.0, "
     "1.0]"),
    (lambda: resolve_monitor("sideways", 0.25), ValueError,
     "monitor must be 'clean', 'adversarial' or a function, got 'sideways' instead."),
    (lambda: Objective("loud"), ValueError, "objective must be one of clean, adversarial, "
     "noise-sign, noise-uniform, vat, got 'loud' instead."),
    (lambda: noise("sign", clip=(1.0, 0.0)), ValueError, "clip must have low < high"),
    (lambda: random_sign(X + 1.0, 0.1, 0), ValueError, "x must lie inside the clip box"),
    (lambda: random_uniform(X - 1.0, 0.1, 0), ValueError, "x must lie inside the clip box"),
    (lambda: logit_path(MODEL, X, np.ones(3), [0.0, np.nan]), ValueError, "eps_values must be"),
]


@pytest.mark.parametrize("call, error, start", CASES, ids=[str(i) for i in range(len(CASES))])
def test_the_message_starts_with_what_is_refused(call, error, start):
    with pytest.raises(error) as caught:
        call()
    assert str(caught.value).startswith(start), str(caught.value)


def test_boundaries_that_are_allowed():
    """k = d directions exist; steps = 2 is a grid; thresholds 0 and 1 are legal."""
    assert adversarial_subspace(MODEL, X, Y, 0.1, 3, clip=None).shape == (2,)
    assert cross_section(MODEL, X[0], np.eye(3)[0], np.eye(3)[1], 1.0, 2)[0].shape == (2, 2)
    assert rubbish_report(MODEL, X, threshold=1.0)["fooled_rate"] == 0.0
    assert rubbish_report(MODEL, X, threshold=0.0)["fooled_rate"] == 1.0
    assert fgsm(OnlyLossGrad(), X, 0.25, y=Y, clip=None).tolist() == (X + 0.25).tolist()


def test_logit_path_refuses_non_finite_directions_and_steps():
    for direction, eps_values in ((np.ones(3), []), ([np.inf, 0, 0], [1.0])):
        with pytest.raises(ValueError, match="^(direction|eps_values) must be finite"):
            logit_path(MODEL, X, direction, eps_values)


def test_whole_messages_of_refusals_that_explain_a_rule():
    from advref.models import MaxoutMLP, RBFNetwork
    from advref.models.ensemble import Ensemble
    from advref.training.virtual_adversarial import virtual_adversarial_perturbation

    cases = [
        (lambda: MaxoutMLP(3, 2, units=(2,), output="rbf"),
         "output must be one of ('softmax', 'sigmoid-ovr'), got 'rbf' instead."),
        (lambda: Ensemble([]), "an ensemble needs at least one member, got none instead."),
        (lambda: rubbish_report(MODEL, X, eps=0.1),
         "eps and target go together, got eps=0.1 and target=None instead."),
        (lambda: virtual_adversarial_perturbation(RBFNetwork(3, 2), X, eps=1.0),
         "VAT needs softmax scores, got a model with rbf output instead."),
        (lambda: transfer(MODEL, {"t": NoClassCount()}, X, Y, 0.1),
         "transfer target t must have the source's 2 classes, got 3 instead."),
        (lambda: logit_path(MODEL, X, np.ones(3), []),
         "eps_values must be finite numbers (at least one), got [] instead."),
    ]
    for call, message in cases:
        with pytest.raises(ValueError) as caught:
            call()
        assert str(caught.value) == message
