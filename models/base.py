"""The model protocol, implemented once on top of a subclass's forward/backward.

A subclass defines `params`, `output` (an output kind from models.outputs),
`forward(x, train, rng) -> (scores, cache)`, `backward(cache, d_scores)` and
`config()`. From those this base gives every method of the protocol:

    predict_proba(x)                  (n, k)
    predict(x)                        (n,) int64
    loss_grad(x, y, train, rng)       (losses (n,), d_x (n, d))  each example's own
    mean_loss(x, y, train, rng)       mean loss                  (no gradient)
    loss_and_grads(x, y, train, rng)  (mean loss, grads)         grads = d(mean)/d(param)

The cache is returned, never stored on the model, so two forwards before one
backward never interfere.

What each part of advref needs from a model (a user's own model implements
just these; a missing one is named in a TypeError):

    fgsm, minimal_perturbation, adversarial_subspace   loss_grad, predict, predict_proba
    rubbish_report, evaluate, error_rate, transfer    predict, predict_proba
    logit_path                                        forward (eval-mode scores)
    vat (virtual adversarial training)                forward, backward, loss_and_grads
    train and the training objectives                 params, weight_names, max_col_norm,
                                                      check_input, loss_and_grads
                                                      (mean_loss when present, for speed)
    adversarial_logistic_loss                         a LogisticRegression
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .validation import as_generator, check_x, check_y

if TYPE_CHECKING:
    from advref.models.protocol import Seed

EVAL_BATCH = 4096


class Model:
    """Base class; see the module docstring. Subclasses set the attributes below."""

    params: dict
    output: Any = None       # an output kind (softmax, sigmoid, rbf)
    n_features: int
    n_classes: int
    dtype: np.dtype
    weight_names: tuple = ()   # the matrices that weight decay and max-norm act on
    max_col_norm: float | None = None    # the trainer's max column L2 norm, or None

    # -- subclass interface ------------------------------------------------
    def forward(self, x: np.ndarray, *, train: bool = False,
                rng: Seed = None) -> tuple[np.ndarray, Any]:
        raise NotImplementedError

    def backward(self, cache: Any, d_scores: np.ndarray, *, need_params: bool = True,
                 need_input: bool = True) -> tuple[dict[str, np.ndarray], Any]:
        """(grads, d_x). need_params=False returns {} for grads and need_input=False
        None for d_x, skipping that work (attacks need only d_x, training only grads)."""
        raise NotImplementedError

    def config(self) -> dict:
        """JSON-ready constructor arguments (without rng)."""
        raise NotImplementedError

    def kink_distance(self, x: np.ndarray, *, train: bool = False, rng: Seed = None) -> float:
        """Smallest distance of any pre-activation to a point where the model is
        not differentiable (inf for smooth models), for the forward pass with
        these arguments. Gradient checks use it to keep away from kinks."""
        return float("inf")

    # -- the protocol, derived ---------------------------------------------
    def check_input(self, x: np.ndarray,
                    y: np.ndarray | None = None) -> tuple[np.ndarray, Any]:
        x = check_x(x, self.n_features, self.dtype)
        if y is not None:
            y = check_y(y, len(x), self.n_classes)
        return x, y

    def dropout_rng(self, train: bool, rng: Seed) -> np.random.Generator | None:
        return as_generator(rng) if (train and rng is not None) else None

    def scores(self, x: np.ndarray) -> np.ndarray:
        """Evaluation-mode scores, computed in batches to bound memory."""
        x, _ = self.check_input(x)
        return np.concatenate([self.forward(x[i:i + EVAL_BATCH])[0]
                               for i in range(0, len(x), EVAL_BATCH)])

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return self.output.proba(self.scores(x))

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.output.predict(self.scores(x)).astype(np.int64)

    def loss_grad(self, x: np.ndarray, y: np.ndarray, *, train: bool = False,
                  rng: Seed = None) -> tuple[np.ndarray, np.ndarray]:
        """Each example's loss and the gradient of that loss w.r.t. its own input.

        The per-example score gradient is back-propagated without averaging, so
        the batch size never rescales d_x. With train=True and an rng, the loss is
        the training-mode one: dropout masks are drawn from rng for this pass, and
        d_x is the gradient through them (da_0 = du_0 * m_0, models.feedforward).
        """
        x, y = self.check_input(x, y)
        scores, cache = self.forward(x, train=train, rng=rng)
        losses, d_scores = self.output.loss(scores, y)
        _, d_x = self.backward(cache, d_scores, need_params=False)
        return losses, d_x

    def mean_loss(self, x: np.ndarray, y: np.ndarray, *, train: bool = False,
                  rng: Seed = None) -> float:
        """The mean loss over the batch, without any gradient."""
        x, y = self.check_input(x, y)
        scores, _ = self.forward(x, train=train, rng=rng)
        return self.output.loss(scores, y)[0].mean()

    def loss_and_grads(self, x: np.ndarray, y: np.ndarray, *, train: bool = False,
                       rng: Seed = None) -> tuple[float, dict[str, np.ndarray]]:
        """The mean loss over the batch and its gradient w.r.t. every parameter."""
        x, y = self.check_input(x, y)
        scores, cache = self.forward(x, train=train, rng=rng)
        losses, d_scores = self.output.loss(scores, y)
        grads, _ = self.backward(cache, d_scores / len(x), need_input=False)
        return losses.mean(), grads

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"{type(self).__name__}({args})"
