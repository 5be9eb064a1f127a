"""A stack of dense layers with an activation, dropout, and a final affine layer.

Layer l (l = 0 .. L-1 hidden, L the output layer), a_0 = x:
    m_l   dropout mask: keep_l * scale_l, keep_l ~ Bernoulli(include_l), only when
          training with an rng (models.dropout draws keep_l from raw bytes). The
          code multiplies by the boolean keep_l (and then by scale_l if it is not
          1) rather than building m_l: one float array less to write and read.
    u_l   = a_l * m_l                                   (n, width_l)
    z_l   = u_l @ W_l + b_l
    a_l+1 = act(z_l)                                    hidden layers
    scores = z_L                                        the output layer
Backward, from d_scores = dz_L:
    dW_l = u_l.T @ dz_l ;  db_l = 1.T @ dz_l ;  du_l = dz_l @ W_l.T
          (db_l, the column sums of dz_l, as a matrix-vector product: BLAS sums
          the columns on every core, about twice as fast as dz.sum(axis=0))
    da_l = du_l * m_l                                   (no mask: da_l = du_l)
    dz_l-1 = act.backward(da_l)                         (models.activations)
and d_x = da_0. Parameters are named W0, b0, W1, b1, ..., WL, bL.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .base import Model
from .dropout import bernoulli_keep
from .outputs import HIDDEN_NET_OUTPUTS, OUTPUTS
from .validation import (
    check_float_dtype,
    check_memory,
    check_number,
    check_positive_int,
    check_probability,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from typing import Any

    from numpy.typing import DTypeLike

    from advref.models.protocol import Seed


class FeedForward(Model):
    """Subclasses build `params`, set `activation`, and call `setup_dropout`."""

    activation: Any = None

    def setup(self, n_features: int, n_classes: int, dtype: DTypeLike, include_probs: Any,
              scales: Any, n_layers: int, output: str = "softmax") -> None:
        self.n_features = check_positive_int(n_features, "n_features")
        self.n_classes = check_positive_int(n_classes, "n_classes", low=2)
        self.dtype = check_float_dtype(dtype)
        if output not in HIDDEN_NET_OUTPUTS:
            raise ValueError(f"output must be one of {HIDDEN_NET_OUTPUTS}, got {output!r} "
                             "instead.")
        self.output = OUTPUTS[output]
        include_probs = (1.0,) * n_layers if include_probs is None else tuple(include_probs)
        scales = (1.0,) * n_layers if scales is None else tuple(scales)
        if len(include_probs) != n_layers or len(scales) != n_layers:
            raise ValueError(f"include_probs and scales need one value per layer ({n_layers}), "
                             f"got {len(include_probs)} and {len(scales)} instead.")
        self.include_probs = tuple(check_probability(p, "include_probs") for p in include_probs)
        self.scales = tuple(check_number(s, "scales", low=0.0, low_open=True) for s in scales)
        self.n_layers = n_layers
        self.weight_names = tuple(f"W{i}" for i in range(n_layers))

    def check_weight_memory(self, shapes: Iterable[tuple[int, int]], name: str,
                            widths: Sequence[int]) -> None:
        """Refuse layer widths whose weights (drawn in float64, then cast) cannot fit."""
        count = sum(fan_in * fan_out + fan_out for fan_in, fan_out in shapes)
        check_memory(count * (8 + self.dtype.itemsize), name,
                     f"{name}={widths} ({count:,} parameters)")

    def dropout_keep(self, layer: int, shape: tuple[int, ...],
                     gen: np.random.Generator | None) -> np.ndarray | None:
        """keep_l (boolean), or None when layer l has no dropout in this pass."""
        p = self.include_probs[layer]
        if gen is None or (p == 1.0 and self.scales[layer] == 1.0):
            return None
        return bernoulli_keep(gen, shape, p)

    def apply_mask(self, layer: int, a: np.ndarray, keep: np.ndarray,
                   out: np.ndarray | None = None) -> np.ndarray:
        """a * keep_l * scale_l (= a * m_l), into `out` when given."""
        u = np.multiply(a, keep, out=out)
        if self.scales[layer] != 1.0:
            u *= self.dtype.type(self.scales[layer])
        return u

    def forward(self, x: np.ndarray, *, train: bool = False,
                rng: Seed = None) -> tuple[np.ndarray, Any]:
        gen = self.dropout_rng(train, rng)
        a, layers = x, []
        for i in range(self.n_layers):
            keep = self.dropout_keep(i, a.shape, gen)
            u = a if keep is None else self.apply_mask(i, a, keep)
            z = u @ self.params[f"W{i}"]
            z += self.params[f"b{i}"]          # in place: one array less per layer
            if i < self.n_layers - 1:
                a, act_cache = self.activation.forward(z)
            else:
                a, act_cache = z, None
            layers.append((u, keep, act_cache))
        return a, layers

    def backward(self, cache: Any, d_scores: np.ndarray, *, need_params: bool = True,
                 need_input: bool = True) -> tuple[dict[str, np.ndarray], Any]:
        grads, dz, da = {}, d_scores, None
        for i in reversed(range(self.n_layers)):
            u, keep, _ = cache[i]
            if need_params:
                grads[f"W{i}"] = u.T @ dz
                grads[f"b{i}"] = np.ones(len(dz), dz.dtype) @ dz
            if i == 0 and not need_input:
                break
            da = dz @ self.params[f"W{i}"].T
            if keep is not None:
                self.apply_mask(i, da, keep, out=da)
            if i > 0:
                dz = self.activation.backward(da, cache[i - 1][2])
        return grads, da

    def kink_distance(self, x: np.ndarray, *, train: bool = False, rng: Seed = None) -> float:
        _, cache = self.forward(x, train=train, rng=rng)
        return min(self.activation.kink_distance(c[2]) for c in cache[:-1])

    def output_config(self) -> dict:
        """{"output": ...} unless softmax, so softmax models' configs stay as they were."""
        return {} if self.output.name == "softmax" else {"output": self.output.name}

    def dropout_config(self) -> dict:
        return {"include_probs": list(self.include_probs), "scales": list(self.scales)}


def uniform_init(gen: np.random.Generator, shape: tuple[int, ...], irange: float,
                 dtype: DTypeLike) -> np.ndarray:
    return gen.uniform(-irange, irange, size=shape).astype(dtype)
