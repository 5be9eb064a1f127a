"""Where adversarial examples live: scores along a direction, class maps over a
plane, and the dimension of the adversarial subspace.

logit_path:   scores(x + e * direction) for each e in eps_values (paper Fig. 4:
              along the FGSM direction the scores are close to linear in e).
cross_section: the predicted class at x + a d1 + b d2 over a square grid of (a, b)
              in [-extent, extent]^2 (the lecture's maps; d1 the FGSM direction,
              d2 a random direction orthogonal to it, built by `fgsm_plane`).
adversarial_subspace: Tramer et al. 2017's gradient-aligned adversarial subspace.
  With g = grad_x J(x, y) and g^ = g / ||g||_2, take an orthonormal basis
  B = [g^, b_2, ..., b_k] (d, k) (b_i random, orthogonalised by QR) and the
  Householder reflection H = I - 2 v v^T / (v^T v), v = e_1 - u, u = 1/sqrt(k):
  H is orthogonal and symmetric with H e_1 = u, so its rows z_i satisfy
  z_i . e_1 = 1/sqrt(k). The directions r_i = eps B z_i are then orthogonal, of
  L2 norm eps, and each has r_i . g = eps ||g||_2 / sqrt(k): to first order each
  raises the loss by the same amount. The count of i with x + r_i misclassified
  is the number of adversarial dimensions found (about 25 on MNIST in the paper).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from advref._validation import (
    as_generator,
    check_batch,
    check_eps,
    check_labels,
    check_positive_int,
    require_methods,
)

if TYPE_CHECKING:
    from typing import Any

    from numpy.typing import DTypeLike

    from advref.models.protocol import Box, Classifier, Differentiable, Seed


def logit_path(model: Any, x: np.ndarray, direction: np.ndarray,
               eps_values: np.ndarray) -> np.ndarray:
    """Scores (len(eps_values), n, k) along x + e * direction (no clipping).

    Needs model.forward: the scores (logits) themselves, which the three-method
    protocol (loss_grad, predict, predict_proba) does not expose."""
    require_methods(model, ("forward",), "logit_path")
    x = check_batch(x)
    direction = np.broadcast_to(check_finite(direction, x.dtype, "direction"), x.shape)
    eps_values = check_finite(eps_values, x.dtype, "eps_values").reshape(-1)
    points = x[None] + eps_values[:, None, None] * direction[None]
    scores, _ = model.forward(points.reshape(-1, x.shape[1]))
    return scores.reshape(len(eps_values), len(x), -1)


def check_finite(values: Any, dtype: DTypeLike, name: str) -> np.ndarray:
    """`values` as a non-empty array of `dtype`, refused if any entry is NaN or infinite."""
    a = np.asarray(values, dtype=dtype)
    if a.size == 0 or not np.isfinite(a).all():
        raise ValueError(f"{name} must be finite numbers (at least one), got {values!r} "
                         "instead.")
    return a


def fgsm_plane(model: Differentiable, x: np.ndarray, y: np.ndarray,
               rng: Seed) -> tuple[np.ndarray, np.ndarray]:
    """(d1, d2) for one example x (d,): d1 = sign of the loss gradient, d2 a random
    sign vector made orthogonal to d1 and rescaled to the same L2 norm."""
    x2 = check_batch(np.asarray(x)[None])
    _, grad = model.loss_grad(x2, check_labels(np.atleast_1d(y), 1))
    d1 = np.sign(grad[0])
    d2 = as_generator(rng).choice(np.array([-1.0, 1.0]), d1.shape).astype(x2.dtype)
    if d1 @ d1 > 0:
        d2 = d2 - (d2 @ d1) / (d1 @ d1) * d1
        d2 *= np.sqrt(d1 @ d1) / np.sqrt(d2 @ d2)
    return d1, d2


def cross_section(model: Classifier, x: np.ndarray, d1: np.ndarray, d2: np.ndarray, extent: float,
                  steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Predicted classes (steps, steps) at x + a d1 + b d2; row i is b, column j is a."""
    x2 = check_batch(np.asarray(x)[None])
    steps = check_positive_int(steps, "steps", low=2)
    grid = np.linspace(-extent, extent, steps).astype(x2.dtype)
    a, b = np.meshgrid(grid, grid)
    points = x2 + a.reshape(-1, 1) * d1[None] + b.reshape(-1, 1) * d2[None]
    return model.predict(points.astype(x2.dtype)).reshape(steps, steps), grid


def gaas_directions(grad: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k orthogonal unit directions r_i with r_i . g^ = 1/sqrt(k) (see module doc)."""
    d = grad.shape[0]
    g_hat = grad / np.sqrt(grad @ grad)
    basis, _ = np.linalg.qr(np.column_stack([g_hat, rng.standard_normal((d, k - 1))]))
    basis[:, 0] = g_hat            # QR may flip the first column's sign
    u = np.full(k, 1 / np.sqrt(k))
    v = -u
    v[0] += 1.0
    vv = v @ v
    H = np.eye(k) - 2 * np.outer(v, v) / vv if vv > 0 else np.eye(k)
    return H @ basis.T             # (k, d): row i is B z_i


def adversarial_subspace(model: Differentiable, x: np.ndarray, y: np.ndarray, eps: float, k: int, *,
                         clip: Box = None, rng: Seed = 0) -> np.ndarray:
    """For each example, how many of k orthogonal gradient-aligned L2 steps of size
    eps are misclassified. Returns an (n,) int array. Needs model.loss_grad and
    model.predict."""
    require_methods(model, ("loss_grad", "predict"), "adversarial_subspace")
    x = check_batch(x)
    eps, k = check_eps(eps), check_positive_int(k, "k")
    if k > x.shape[1]:
        raise ValueError(f"k must be at most the dimension {x.shape[1]}, got {k} instead.")
    y = check_labels(y, len(x))
    gen = as_generator(rng)
    _, grads = model.loss_grad(x, y)
    counts = np.zeros(len(x), np.int64)
    for i in range(len(x)):
        g = grads[i].astype(np.float64)
        if not np.any(g):
            continue
        points = x[i][None] + (eps * gaas_directions(g, k, gen)).astype(x.dtype)
        if clip is not None:
            np.clip(points, clip[0], clip[1], out=points)
        counts[i] = int(np.sum(model.predict(points) != y[i]))
    return counts
