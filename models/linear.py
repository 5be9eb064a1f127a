"""Linear models: binary logistic regression and softmax regression.

One affine layer, scores z = x @ W + b, read by an output kind:

    x  (n, d)    W  (d, k)    b  (k,)
    z  = x @ W + b                                   (n, k)
    dW = x.T @ dz          (d, k)
    db = dz.sum(0)         (k,)
    dx = dz @ W.T          (n, d)

where dz is the loss gradient w.r.t. the scores (models.outputs):
    softmax regression:  dz = softmax(z) - onehot(y)              k = n_classes
    logistic regression: dz = -s * sigmoid(-s z), s = 2y - 1      k = 1
For logistic regression the input gradient is dx_i = -s_i sigmoid(-s_i z_i) w,
so sign(dx_i) = -s_i sign(w): the fast gradient sign step is x - eps*s*sign(w).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .base import Model
from .outputs import OUTPUTS
from .validation import as_generator, check_float_dtype, check_number, check_positive_int

if TYPE_CHECKING:
    from typing import Any

    from numpy.typing import DTypeLike

    from advref.models.protocol import Seed


class LinearModel(Model):
    """An affine layer with an output kind; use the two subclasses below."""

    weight_names = ("W",)

    def __init__(self, n_features: int, n_outputs: int, output: Any, *, rng: Seed = 0,
                 init_scale: float = 0.01, dtype: DTypeLike = np.float64) -> None:
        self.n_features = check_positive_int(n_features, "n_features")
        self.dtype = check_float_dtype(dtype)
        self.output = OUTPUTS[output]
        self.init_scale = check_number(init_scale, "init_scale", low=0.0)
        gen = as_generator(rng)
        self.params = {
            "W": (init_scale * gen.standard_normal((self.n_features, n_outputs))).astype(dtype),
            "b": np.zeros(n_outputs, dtype),
        }

    def forward(self, x: np.ndarray, *, train: bool = False,
                rng: Seed = None) -> tuple[np.ndarray, Any]:
        W, b = self.params["W"], self.params["b"]
        return x @ W + b, x

    def backward(self, cache: Any, d_scores: np.ndarray, *, need_params: bool = True,
                 need_input: bool = True) -> tuple[dict[str, np.ndarray], Any]:
        x, W = cache, self.params["W"]
        d_x = d_scores @ W.T if need_input else None
        if not need_params:
            return {}, d_x
        return {"W": x.T @ d_scores, "b": d_scores.sum(axis=0)}, d_x


class SoftmaxRegression(LinearModel):
    """p(y = k | x) = softmax(x @ W + b)_k, trained with cross-entropy."""

    def __init__(self, n_features: int, n_classes: int = 10, *, rng: Seed = 0,
                 init_scale: float = 0.01, dtype: DTypeLike = np.float64) -> None:
        self.n_classes = check_positive_int(n_classes, "n_classes", low=2)
        super().__init__(n_features, self.n_classes, "softmax", rng=rng,
                         init_scale=init_scale, dtype=dtype)

    def config(self) -> dict:
        return {"n_features": self.n_features, "n_classes": self.n_classes,
                "init_scale": self.init_scale, "dtype": self.dtype.name}


class LogisticRegression(LinearModel):
    """Binary, labels 0/1: P(y = 1 | x) = sigmoid(w.x + b), loss softplus(-s (w.x + b)).

    Scores are (n, 1); `predict_proba` gives (n, 2). `w` is W[:, 0].
    """

    n_classes = 2

    def __init__(self, n_features: int, *, rng: Seed = 0, init_scale: float = 0.01,
                 dtype: DTypeLike = np.float64) -> None:
        super().__init__(n_features, 1, "sigmoid", rng=rng, init_scale=init_scale, dtype=dtype)

    @property
    def w(self) -> np.ndarray:
        return self.params["W"][:, 0]

    @property
    def b(self) -> float:
        return self.params["b"][0]

    def config(self) -> dict:
        return {"n_features": self.n_features, "init_scale": self.init_scale,
                "dtype": self.dtype.name}
