"""Maxout MLP, the permutation-invariant MNIST recipe (pylearn2 mnist_pi.yaml).

    784 -> maxout(240 units x 5 pieces) -> maxout(240 x 5) -> softmax(10)

Each maxout layer is a dense layer of pieces*units columns followed by a max
over each unit's pieces, stored piece-major: column r*units + j is piece r of
unit j (models.activations.Maxout: ties give the gradient to the first maximal
piece). Model files of format version 1 stored unit-major columns
(j*pieces + r); models.persist converts them when it loads them.

Dropout acts on each layer's input: include probabilities (.8, .5, .5) with
scales (1, 2, 2) in the recipe (the default, "recipe"; None turns dropout off),
applied only when forward is called with train=True and an rng. Weights start
uniform(-irange, irange), biases 0. The max column L2 norm (1.9365) is a
training constraint, applied by the trainer after every update.

The gradient rules are those of models.feedforward with the maxout activation:
    dz[:, r*u + j] = dh_j  for the first maximal piece r of unit j, 0 elsewhere.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .activations import Maxout
from .feedforward import FeedForward, uniform_init
from .validation import as_generator, check_int_tuple, check_number, check_positive_int

if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

    from numpy.typing import DTypeLike

    from advref.models.protocol import Seed

RECIPE_MAX_COL_NORM = 1.9365


def recipe_dropout(n_layers: int) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """The recipe's pattern for any depth: the input kept with p .8 (scale 1), every
    later layer's input kept with p .5 (scale 2)."""
    return (0.8,) + (0.5,) * (n_layers - 1), (1.0,) + (2.0,) * (n_layers - 1)


class MaxoutMLP(FeedForward):
    """784 -> maxout(units[0] x pieces) -> ... -> softmax(n_classes), the paper's
    permutation-invariant MNIST network (module docstring for the rules).

    Defaults are the published recipe: two layers of 240 units x 5 pieces,
    dropout keeping the input with p .8 and later inputs with p .5 (scaled x2),
    max column norm 1.9365, weights uniform(-irange, irange), biases 0.
    output="sigmoid-ovr" gives independent sigmoid outputs (models.outputs).
    """

    def __init__(self, n_features: int = 784, n_classes: int = 10, *,
                 units: Sequence[int] = (240, 240), pieces: int = 5, include_probs: Any = "recipe",
                 scales: Any = "recipe", max_col_norm: float | None = RECIPE_MAX_COL_NORM,
                 irange: float = 0.005, output: str = "softmax", rng: Seed = 0,
                 dtype: DTypeLike = np.float64) -> None:
        units = check_int_tuple(units, "units")
        default_probs, default_scales = recipe_dropout(len(units) + 1)
        include_probs = default_probs if include_probs == "recipe" else include_probs
        scales = default_scales if scales == "recipe" else scales
        self.units, self.pieces = units, check_positive_int(pieces, "pieces")
        self.setup(n_features, n_classes, dtype, include_probs, scales, len(units) + 1, output)
        self.activation = Maxout(self.pieces)
        self.max_col_norm = None if max_col_norm is None else check_number(
            max_col_norm, "max_col_norm", low=0.0, low_open=True)
        self.irange = check_number(irange, "irange", low=0.0)
        gen = as_generator(rng)
        widths = [self.n_features, *units]
        fan_outs = [u * self.pieces for u in units]
        self.check_weight_memory([*zip(widths[:-1], fan_outs, strict=True),
                                  (widths[-1], self.n_classes)], "units", units)
        self.params = {}
        for i, (fan_in, fan_out) in enumerate(zip(widths[:-1], fan_outs, strict=True)):
            self.params[f"W{i}"] = uniform_init(gen, (fan_in, fan_out), irange, self.dtype)
            self.params[f"b{i}"] = np.zeros(fan_out, self.dtype)
        last = len(units)
        self.params[f"W{last}"] = uniform_init(gen, (widths[-1], self.n_classes), irange,
                                               self.dtype)
        self.params[f"b{last}"] = np.zeros(self.n_classes, self.dtype)

    def config(self) -> dict:
        return {"n_features": self.n_features, "n_classes": self.n_classes,
                "units": list(self.units), "pieces": self.pieces, **self.dropout_config(),
                "max_col_norm": self.max_col_norm, "irange": self.irange,
                **self.output_config(), "dtype": self.dtype.name}
