"""How often a model's softmax saturates, and what the printed gradient costs there.

Frameworks write the softmax cross-entropy gradient as dz = softmax(z) - onehot(y)
(`printed_softmax_loss`). Once p_y rounds to 1 in the working dtype this gives
dz_y = 0 instead of -sum_(k != y) p_k, and the input gradient loses the true
class's term (docs/derivations.md section 12). `saturation` counts, on real
examples, where that happens and how far it moves FGSM:

    saturated      examples whose p_y, computed as frameworks do, is exactly 1
    top_saturated  examples whose largest p is exactly 1 (right or wrong class)
    fgsm_changed   examples whose FGSM x_adv differs between the exact gradient
                   (models/outputs.py) and the printed one
    coords_changed coordinates where the two x_adv differ
    error_exact, error_printed   the model's error on each set of x_adv
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

import numpy as np

from advref.attacks.fast_gradient import fgsm
from advref.models.outputs import SoftmaxOutput, softmax

if TYPE_CHECKING:
    from advref.models.base import Model
    from advref.models.protocol import Box


class PrintedSoftmax(SoftmaxOutput):
    """The softmax output as frameworks compute it: log sum e^s - s_y, softmax - onehot."""

    def loss(self, z: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return printed_softmax_loss(z, y)


def printed_softmax_loss(z: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rows = np.arange(len(y))
    shifted = z - z.max(axis=1, keepdims=True)
    dz = softmax(z)
    dz[rows, y] -= 1
    return np.log(np.exp(shifted).sum(axis=1)) - shifted[rows, y], dz


def with_printed_softmax(model: Model) -> Model:
    """A shallow copy of `model` whose softmax output uses the printed forms."""
    if getattr(model.output, "name", None) != "softmax":
        raise ValueError(f"model must have a softmax output, got "
                         f"{getattr(model.output, 'name', type(model.output).__name__)!r}.")
    printed = copy.copy(model)
    printed.output = PrintedSoftmax()
    return printed


def saturation(model: Model, x: np.ndarray, y: np.ndarray, eps: float = 0.25, *,
               clip: Box = (0.0, 1.0), batch: int = 1000) -> dict:
    printed = with_printed_softmax(model)
    n = len(x)
    counts = dict.fromkeys(("saturated", "top_saturated", "fgsm_changed", "coords_changed",
                            "wrong_exact", "wrong_printed"), 0)
    for start in range(0, n, batch):
        xb, yb = x[start:start + batch], y[start:start + batch]
        p = softmax(model.forward(xb)[0])
        counts["saturated"] += int(np.count_nonzero(p[np.arange(len(yb)), yb] == 1))
        counts["top_saturated"] += int(np.count_nonzero(p.max(axis=1) == 1))
        exact = fgsm(model, xb, eps, y=yb, clip=clip)
        rounded = fgsm(printed, xb, eps, y=yb, clip=clip)
        differs = exact != rounded
        counts["fgsm_changed"] += int(np.count_nonzero(differs.any(axis=1)))
        counts["coords_changed"] += int(np.count_nonzero(differs))
        counts["wrong_exact"] += int(np.count_nonzero(model.predict(exact) != yb))
        counts["wrong_printed"] += int(np.count_nonzero(model.predict(rounded) != yb))
    wrong_exact, wrong_printed = counts.pop("wrong_exact"), counts.pop("wrong_printed")
    return {"n": n, "dtype": np.dtype(model.dtype).name, "eps": eps, **counts,
            "error_exact": wrong_exact / n, "error_printed": wrong_printed / n}
