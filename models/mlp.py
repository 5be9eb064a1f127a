"""A ReLU or tanh MLP with a softmax output, for the transfer experiments.

    n_features -> hidden[0] -> ... -> hidden[-1] -> softmax(n_classes)

Weights start N(0, gain^2 / fan_in) (gain sqrt(2) for ReLU, 1 for tanh), biases
0. The gradient rules are those of models.feedforward with the activation's:
    ReLU: dz = dh * [z > 0]        tanh: dz = dh * (1 - h^2)
Dropout is off unless include_probs/scales are given (one per layer input).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .activations import ReLU, Tanh
from .feedforward import FeedForward
from .validation import as_generator, check_int_tuple, check_number

if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

    from numpy.typing import DTypeLike

    from advref.models.protocol import Seed

ACTIVATIONS = {"relu": (ReLU, np.sqrt(2.0)), "tanh": (Tanh, 1.0)}


class MLP(FeedForward):
    """n_features -> hidden ReLU or tanh layers -> softmax (module docstring)."""

    def __init__(self, n_features: int = 784, n_classes: int = 10, *,
                 hidden: Sequence[int] = (800, 800), activation: str = "relu",
                 include_probs: Any = None, scales: Any = None, max_col_norm: float | None = None,
                 rng: Seed = 0, dtype: DTypeLike = np.float64) -> None:
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got "
                             f"{activation!r} instead.")
        self.hidden = check_int_tuple(hidden, "hidden")
        self.setup(n_features, n_classes, dtype, include_probs, scales, len(self.hidden) + 1)
        act_class, gain = ACTIVATIONS[activation]
        self.activation = act_class()
        self.max_col_norm = None if max_col_norm is None else check_number(
            max_col_norm, "max_col_norm", low=0.0, low_open=True)
        gen = as_generator(rng)
        widths = [self.n_features, *self.hidden, self.n_classes]
        self.check_weight_memory(zip(widths[:-1], widths[1:], strict=True), "hidden",
                                 self.hidden)
        self.params = {}
        for i, (fan_in, fan_out) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
            std = gain / np.sqrt(fan_in)
            self.params[f"W{i}"] = (std * gen.standard_normal((fan_in, fan_out))).astype(dtype)
            self.params[f"b{i}"] = np.zeros(fan_out, self.dtype)

    def config(self) -> dict:
        return {"n_features": self.n_features, "n_classes": self.n_classes,
                "hidden": list(self.hidden), "activation": self.activation.name,
                **self.dropout_config(), "max_col_norm": self.max_col_norm,
                "dtype": self.dtype.name}
