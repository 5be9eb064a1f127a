"""An ensemble that averages its members' class probabilities.

    p(y | x) = (1/M) sum_m p_m(y | x)

Its loss is L = -log p(y | x). With each member's own loss L_m = -log p_m(y | x)
(softmax members: their cross-entropy), p_m(y | x) = exp(-L_m), so

    L     = log M - logsumexp_m(-L_m)
    dL/dx = -(1 / sum_m p_m(y|x)) sum_m dp_m(y|x)/dx
          = sum_m w_m dL_m/dx,          w_m = p_m(y|x) / sum_m' p_m'(y|x) = softmax_m(-L_m)

since dp_m/dx = -p_m dL_m/dx. An attack on the ensemble therefore needs only each
member's loss_grad: the ensemble implements the attack protocol (loss_grad,
predict, predict_proba), not training.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import numpy as np

from .outputs import softmax

if TYPE_CHECKING:
    from collections.abc import Sequence

    from advref.models.base import Model


class Ensemble:
    """Members with softmax outputs, averaged in probability (module docstring)."""

    def __init__(self, members: Sequence[Model]) -> None:
        members = list(members)
        if not members:
            raise ValueError("an ensemble needs at least one member, got none instead.")
        first = members[0]
        for i, m in enumerate(members):
            if getattr(getattr(m, "output", None), "name", None) != "softmax":
                raise ValueError(f"ensemble members must have softmax outputs (their loss is "
                                 f"-log p(y|x)), got member {i} without one instead.")
            if (m.n_features, m.n_classes, m.dtype) != (first.n_features, first.n_classes,
                                                        first.dtype):
                raise ValueError(f"ensemble members must share features, classes and dtype, "
                                 f"got member {i} with {(m.n_features, m.n_classes, m.dtype)} "
                                 f"instead of {(first.n_features, first.n_classes, first.dtype)}.")
        self.members = members
        self.n_features, self.n_classes, self.dtype = (first.n_features, first.n_classes,
                                                       first.dtype)

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return cast(np.ndarray, sum(m.predict_proba(x) for m in self.members)) / len(self.members)

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.predict_proba(x).argmax(axis=1).astype(np.int64)

    def loss_grad(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(losses (n,), d_x (n, d)): each example's ensemble loss and its input gradient."""
        parts = [m.loss_grad(x, y) for m in self.members]
        neg = -np.stack([losses for losses, _ in parts], axis=1)          # (n, M)
        w = softmax(neg)                                                  # (n, M)
        top = neg.max(axis=1)
        losses = np.log(len(self.members)) - (top + np.log(np.exp(neg - top[:, None])
                                                            .sum(axis=1)))
        d_x = sum(w[:, i:i + 1] * g for i, (_, g) in enumerate(parts))
        return losses.astype(x.dtype), d_x.astype(x.dtype)
