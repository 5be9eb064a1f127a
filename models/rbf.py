"""Shallow RBF network: one unnormalised Gaussian bump per class, no hidden layer.

    p_k(x) = exp(-q_k(x)),   q_k(x) = sum_j gamma_kj^2 (x_j - mu_kj)^2   >= 0

i.e. exp((x - mu_k)^T beta_k (x - mu_k)) with beta_k = -diag(gamma_k^2), negative
semi-definite. Class scores are z = log p = -q and are NOT normalised across
classes, so a confident "none of these" is possible (all p_k small). Each class
is trained one-vs-rest with binary cross-entropy (models.outputs.RBFOutput);
the confidence of a prediction is max_k p_k.

Shapes: x (n, d), mu (k, d), gamma (k, d), A = gamma^2 (k, d).
Forward, one class at a time from the differences D_k = x - mu_k (n, d):
    q[:, k] = (D_k * D_k) @ A_k                                   (n,)
a sum of non-negative terms, so q keeps its relative precision however close x
is to a centre. (The expansion (x*x) @ A.T - 2 x @ (A*mu).T + sum A*mu*mu, ~4x
faster, cancels there: on a centre it loses q_y and, in the backward pass, every
other class's contribution, ~e^-q, beside the target's.)
Backward, from dq = -dz (n, k):
    dq/dx_ij      = sum_k dq_ik 2 A_kj (x_ij - mu_kj)
        dx        = sum_k 2 dq[:, k, None] * (D_k * A_k)           (n, d)
    dq/dmu_kj     = sum_i dq_ik (-2 A_kj (x_ij - mu_kj))
        dmu_k     = -2 A_k * (dq[:, k] @ D_k)                      (d,)
    dq/dgamma_kj  = sum_i dq_ik 2 gamma_kj (x_ij - mu_kj)^2
        dgamma_k  = 2 gamma_k * (dq[:, k] @ (D_k * D_k))           (d,)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .base import Model
from .outputs import OUTPUTS
from .validation import (
    as_generator,
    check_float_dtype,
    check_number,
    check_positive_int,
    check_x,
    check_y,
)

if TYPE_CHECKING:
    from typing import Any

    from numpy.typing import DTypeLike

    from advref.models.protocol import Seed


class RBFNetwork(Model):
    """One unnormalised Gaussian bump per class, p_k(x) = exp(-q_k(x)), trained one
    class against the rest (module docstring). Centres start at center_init plus
    N(0, center_noise^2) noise, widths gamma at gamma_init (or init_centers)."""

    weight_names = ()

    def __init__(self, n_features: int = 784, n_classes: int = 10, *, gamma_init: float = 0.05,
                 center_init: float = 0.5, center_noise: float = 0.01, rng: Seed = 0,
                 dtype: DTypeLike = np.float64) -> None:
        self.n_features = check_positive_int(n_features, "n_features")
        self.n_classes = check_positive_int(n_classes, "n_classes", low=2)
        self.dtype = check_float_dtype(dtype)
        self.output = OUTPUTS["rbf"]
        self.gamma_init = check_number(gamma_init, "gamma_init", low=0.0)
        self.center_init = check_number(center_init, "center_init")
        self.center_noise = check_number(center_noise, "center_noise", low=0.0)
        gen = as_generator(rng)
        shape = (self.n_classes, self.n_features)
        self.params = {
            "mu": (center_init + center_noise * gen.standard_normal(shape)).astype(dtype),
            "gamma": np.full(shape, gamma_init, dtype),
        }

    def init_centers(self, x: np.ndarray, y: np.ndarray, *,
                     gamma_scale: float | None = None) -> RBFNetwork:
        """Start each centre at its class mean (a data-driven initialisation).

        With `gamma_scale`, gamma_kj = gamma_scale / sqrt(d): every class starts
        with the same width in every direction.
        """
        x = check_x(x, self.n_features, self.dtype)
        y = check_y(y, len(x), self.n_classes)
        counts = np.bincount(y, minlength=self.n_classes)
        if (counts == 0).any():
            raise ValueError(f"every class needs an example to centre on, got none for "
                             f"classes {np.flatnonzero(counts == 0).tolist()} instead.")
        sums = np.zeros((self.n_classes, self.n_features), self.dtype)
        np.add.at(sums, y, x)
        self.params["mu"] = (sums / counts[:, None]).astype(self.dtype)
        if gamma_scale is not None:
            self.params["gamma"] = np.full_like(self.params["gamma"],
                                                gamma_scale / np.sqrt(self.n_features))
        return self

    def forward(self, x: np.ndarray, *, train: bool = False,
                rng: Seed = None) -> tuple[np.ndarray, Any]:
        mu, gamma = self.params["mu"], self.params["gamma"]
        A = gamma * gamma
        q = np.empty((len(x), self.n_classes), x.dtype)
        for k in range(self.n_classes):      # an (n, d) temporary, never (n, k, d)
            d = x - mu[k]
            d *= d
            q[:, k] = d @ A[k]
        return -q, x

    def backward(self, cache: Any, d_scores: np.ndarray, *, need_params: bool = True,
                 need_input: bool = True) -> tuple[dict[str, np.ndarray], Any]:
        x, mu, gamma = cache, self.params["mu"], self.params["gamma"]
        A = gamma * gamma
        dq = -d_scores
        d_x = np.zeros_like(x) if need_input else None
        grads = {"mu": np.empty_like(mu), "gamma": np.empty_like(gamma)}
        for k in range(self.n_classes):
            d = x - mu[k]
            if need_input:
                d_x += (2 * dq[:, k])[:, None] * (d * A[k])
            if need_params:
                grads["mu"][k] = -2 * A[k] * (dq[:, k] @ d)
                grads["gamma"][k] = 2 * gamma[k] * (dq[:, k] @ (d * d))
        return (grads if need_params else {}), d_x

    def config(self) -> dict:
        return {"n_features": self.n_features, "n_classes": self.n_classes,
                "gamma_init": self.gamma_init, "center_init": self.center_init,
                "center_noise": self.center_noise, "dtype": self.dtype.name}
