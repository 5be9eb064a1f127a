"""Audit hand-written gradients against central finite differences in float64.

For a scalar f of an array A, each element is perturbed in turn:

    numeric[j] = (f(A + h e_j) - f(A - h e_j)) / (2h)      error O(h^2 f''') + O(eps f / h)

and compared with the analytic gradient. An element passes when
|analytic - numeric| <= atol + rtol * max(|analytic|, |numeric|). An array whose
analytic gradient is entirely zero fails as vacuous: agreeing on zeros (a dead
ReLU layer, say) proves nothing about the backward code.

What is checked, per model:
- every parameter, f = mean loss of `loss_and_grads` (in train mode with a fixed
  dropout seed when `train_seed` is given: each call redraws the same masks);
- the input, f = sum of the per-example losses of `loss_grad`: example i's loss
  depends only on row i, so d f / d x_ij is example i's own input gradient.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RTOL = 1e-5
ATOL = 1e-8
STEP = 1e-6


@dataclass
class Row:
    model: str
    array: str
    size: int
    max_abs: float
    max_rel: float
    nonzero: float
    ok: bool


def numeric_gradient(f, array, h=STEP):
    """Central differences of scalar f() w.r.t. `array`, perturbed in place and restored."""
    grad = np.zeros_like(array)
    flat, gflat = array.reshape(-1), grad.reshape(-1)
    for j in range(flat.size):
        keep = flat[j]
        flat[j] = keep + h
        up = f()
        flat[j] = keep - h
        down = f()
        flat[j] = keep
        gflat[j] = (up - down) / (2 * h)
    return grad


def compare(model_name, array_name, analytic, numeric, rtol=RTOL, atol=ATOL) -> Row:
    diff = np.abs(analytic - numeric)
    scale = np.maximum(np.abs(analytic), np.abs(numeric))
    rel = diff / np.maximum(scale, 1e-300)
    rel[scale == 0] = 0.0
    nonzero = float(np.count_nonzero(analytic)) / analytic.size
    ok = bool((diff <= atol + rtol * scale).all()) and nonzero > 0
    return Row(model_name, array_name, analytic.size, float(diff.max()), float(rel.max()),
               nonzero, ok)


def check_model(model, x, y, *, train_seed=None, name=None, h=STEP):
    """Rows comparing every parameter gradient and the input gradient with numerics."""
    if model.dtype != np.float64 or x.dtype != np.float64:
        raise TypeError("gradient checks run in float64: build the model and x as float64.")
    name = name or type(model).__name__
    train = train_seed is not None

    def mean_loss():
        return model.loss_and_grads(x, y, train=train, rng=train_seed)[0]

    _, grads = model.loss_and_grads(x, y, train=train, rng=train_seed)
    rows = [compare(name, key, grads[key], numeric_gradient(mean_loss, model.params[key], h))
            for key in sorted(model.params)]
    x_work = x.copy()
    _, d_x = model.loss_grad(x_work, y)
    numeric_x = numeric_gradient(lambda: model.loss_grad(x_work, y)[0].sum(), x_work, h)
    rows.append(compare(name, "input x", d_x, numeric_x))
    return rows


def randomize_params(model, rng, scale=0.5):
    """Replace every parameter with N(0, scale^2) draws: recipe inits (e.g. +-.005)
    give gradients too small for a meaningful relative comparison."""
    for key, value in model.params.items():
        model.params[key] = scale * rng.standard_normal(value.shape)
    return model


def draw_instance(model, rng, n, *, train_seed=None, margin=1e-3, tries=500):
    """Inputs x in [0, 1) and labels y such that every pre-activation is at least
    `margin` from a kink and no gradient array is entirely zero."""
    train = train_seed is not None
    for _ in range(tries):
        x = rng.random((n, model.n_features))
        y = rng.integers(0, model.n_classes, n)
        if model.kink_distance(x, train=train, rng=train_seed) <= margin:
            continue
        _, grads = model.loss_and_grads(x, y, train=train, rng=train_seed)
        _, d_x = model.loss_grad(x, y)
        if all(np.any(g != 0) for g in grads.values()) and np.any(d_x != 0):
            return x, y
    raise RuntimeError(f"no instance away from kinks with live gradients in {tries} draws")
