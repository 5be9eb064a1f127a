"""The fast gradient method (Goodfellow, Shlens & Szegedy 2015), for any norm ball.

    eta   = optimize_linear(grad_x J(theta, x, y), eps, norm)
    x_adv = clip(x + eta)                      untargeted: ascend the true label's loss
    x_adv = clip(x - optimize_linear(grad_x J(theta, x, t), eps, norm))
                                               targeted: descend the loss of class t

optimize_linear(g, eps, norm) = argmax_{||eta|| <= eps} g . eta, row by row:
    norm inf:  eps * sign(g)                   gain eps * ||g||_1 (the sign method)
    norm 2:    eps * g / ||g||_2               gain eps * ||g||_2
    norm 1:    eps * sign(g_j) / m on the m coordinates j where |g_j| is largest
               (ties share the budget evenly)  gain eps * ||g||_inf
A zero gradient gives a zero step. The L2 step divides by max|g| first, so the
norm bound holds for every finite gradient, from subnormal to the largest float.
For a linear score w.x the inf-norm step is exact: it raises the score by
exactly eps * ||w||_1.

With y=None the attack ascends the loss of the model's own prediction rather
than of the true label, so no label information leaks into x_adv.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from advref._validation import (
    check_batch,
    check_clip,
    check_eps,
    check_inside,
    check_labels,
    check_norm,
    class_count,
    require_methods,
)

if TYPE_CHECKING:
    from typing import Any

    from advref.models.protocol import Box, Differentiable


def optimize_linear(grad: np.ndarray, eps: float, norm: float = np.inf) -> np.ndarray:
    """The step of norm <= eps, per row of grad (n, d), that most increases grad . eta."""
    grad = check_batch(grad, "grad")
    return linear_step(grad, check_eps(eps), check_norm(norm))


def linear_step(grad: np.ndarray, eps: float, norm: float) -> np.ndarray:
    """optimize_linear for arguments already checked; a new array, grad is not changed."""
    scale = grad.dtype.type(eps)
    if norm == np.inf:
        step = np.sign(grad)
        step *= scale
        return step
    if norm == 2:
        # g / ||g||_2 = u / ||u||_2 with u = g / max|g|: u's entries lie in [-1, 1]
        # and one is +-1, so ||u||_2 is in [1, sqrt(d)] and squaring u neither
        # underflows (tiny g, subnormals included) nor overflows (huge g)
        top = np.abs(grad).max(axis=1, keepdims=True)
        u = grad / np.where(top > 0, top, 1)
        length = np.sqrt((u * u).sum(axis=1, keepdims=True))
        return scale * u / np.where(length > 0, length, 1)
    size = np.abs(grad)
    top = size.max(axis=1, keepdims=True)
    chosen = (size == top) & (top > 0)
    count = np.maximum(chosen.sum(axis=1, keepdims=True), 1).astype(grad.dtype)
    return scale * np.sign(grad) * chosen / count


def fgsm(model: Differentiable, x: np.ndarray, eps: float, *, y: np.ndarray | None = None,
         norm: float = np.inf, targeted: bool = False, clip: Box = (0.0, 1.0)) -> np.ndarray:
    """Fast gradient method examples for a batch; never modifies x, keeps its dtype.

    y: true labels (untargeted) or target classes (targeted=True); None uses the
    model's predictions (untargeted only). clip: (low, high) box for x_adv, or None.

    Needs model.loss_grad (and model.predict when y is not given).
    """
    norm = check_norm(norm)
    x, eps, clip, y = attack_arguments(model, x, eps, y, targeted, clip, "fgsm")
    _, grad = model.loss_grad(x, y)
    return step_along(x, grad, eps, norm, targeted=targeted, clip=clip)


def step_along(x: np.ndarray, grad: np.ndarray, eps: float, norm: float, *, targeted: bool = False,
               clip: Box = None) -> np.ndarray:
    """clip(x +- optimize_linear(grad, eps, norm)) for arguments already checked: the
    step of every gradient-sign method, given the input gradient. A new array."""
    check_batch(grad, "the model's input gradient")
    x_adv = linear_step(grad, eps, norm)       # eta, then x +- eta in the same array
    if targeted:
        np.subtract(x, x_adv, out=x_adv)
    else:
        x_adv += x
    if clip is not None:
        np.clip(x_adv, clip[0], clip[1], out=x_adv)
    return x_adv


def attack_arguments(model: Differentiable, x: Any, eps: float, y: np.ndarray | None,
                     targeted: bool, clip: Box,
                     who: str) -> tuple[np.ndarray, float, Box, np.ndarray]:
    """The arguments every gradient-sign attack shares, checked before any work:
    (x, eps, clip, y), with y the model's predictions on x when it was None."""
    require_methods(model, ("loss_grad",) if y is not None else ("loss_grad", "predict"), who)
    x = check_batch(x)
    eps, clip = check_eps(eps), check_clip(clip)
    check_inside(x, clip)
    if y is None:
        if targeted:
            raise ValueError("targeted=True needs the target classes y, got y=None instead.")
        y = model.predict(x)
    return x, eps, clip, check_labels(y, len(x), class_count(model, x))
