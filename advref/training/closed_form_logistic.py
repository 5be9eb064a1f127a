"""The closed-form adversarial loss of logistic regression (paper section 5).

Labels y in {0, 1}, s = 2y - 1, score z = w.x + b. Over the L_inf ball of radius
eps the worst case of -s z is -s z + eps ||w||_1 (the FGSM point
x - eps s sign(w) reaches it exactly), so the adversarial loss is

    L(w, b) = mean_i softplus(t_i),   t_i = -s_i (w.x_i + b) + eps ||w||_1

(for both labels; the paper prints the y = +1 case). With sigma = sigmoid:

    dL/dt_i = sigma(t_i) / n
    dL/dw   = sum_i dL/dt_i * (-s_i x_i) + (sum_i dL/dt_i) * eps * sign(w)
    dL/db   = sum_i dL/dt_i * (-s_i)

sign(w_i) is the subgradient of |w_i|, taken as 0 at w_i = 0. The eps ||w||_1 term
acts like L1 weight decay, but inside the softplus: it fades once the margin
-t_i is large, where an L1 penalty would not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from advref._validation import check_eps
from advref.models.outputs import sigmoid, softplus

if TYPE_CHECKING:
    from advref.models.protocol import Grads, TrainingObjective


def adversarial_logistic_loss(model: Any, x: np.ndarray, y: np.ndarray,
                              eps: float) -> tuple[float, Grads]:
    """(mean adversarial loss, grads {"W", "b"}) of a LogisticRegression, no clipping."""
    eps = check_eps(eps)
    if type(model).__name__ != "LogisticRegression":
        raise TypeError(f"adversarial_logistic_loss is the closed form for binary logistic "
                        f"regression, got a {type(model).__name__} instead.")
    x, y = model.check_input(x, y)
    W, b = model.params["W"], model.params["b"]
    s = (2 * y - 1).astype(x.dtype)[:, None]
    t = -s * (x @ W + b) + x.dtype.type(eps) * np.abs(W).sum()
    dt = sigmoid(t) / len(x)
    grads = {"W": x.T @ (-s * dt) + dt.sum() * x.dtype.type(eps) * np.sign(W),
             "b": (-s * dt).sum(axis=0)}
    return softplus(t).mean(), grads


def adversarial_logistic(eps: float = 0.25) -> TrainingObjective:
    """The closed-form loss as a trainer objective (model, x, y, rng) -> (loss, grads)."""
    eps = check_eps(eps)
    return lambda model, x, y, rng: adversarial_logistic_loss(model, x, y, eps)
