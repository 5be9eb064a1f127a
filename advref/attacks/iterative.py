"""FGSM's multi-step and random-start variants, in the L_inf ball.

The fast gradient method takes one step of size eps along the sign of the
gradient: exact for a linear model, a first-order guess for any other. Two
variants spend more of the budget on the model's real shape:

Basic iterative method (Kurakin, Goodfellow & Bengio 2017); with a random
start it is Madry et al.'s (2018) projected gradient descent:

    x_0     = x                                  (random_start: x + U(-eps, eps), projected)
    x_{k+1} = P( x_k + a * sign(grad_x J(x_k, y)) ),   k = 0 .. steps-1
    P(z)    = clip(z, max(x - eps, low), min(x + eps, high))   coordinate by coordinate

P is the Euclidean projection onto the intersection of the L_inf ball around
x and the box [low, high]: both are boxes, so their intersection is a box,
and projecting onto a box clips each coordinate on its own. Targeted, the
step descends the loss of the target class instead (x_k - a * sign(...)).
The step a defaults to 2.5 * eps / steps (Madry et al.), so the path can reach
the ball's surface from any start and still turn.

R+FGSM (Tramer et al. 2018): a random sign step of size alpha, then one FGSM
step of the rest of the budget from there:

    x'    = clip(x + alpha * sign(N(0, I)))
    x_adv = clip(x' + (eps - alpha) * sign(grad_x J(x', y)))

||x_adv - x||_inf <= eps by the triangle inequality (clipping to a box that
holds x only moves a coordinate toward x).

For a linear score (binary logistic regression) the gradient's sign never
changes: the iterative method ends on FGSM's corner x + eps * sign once its
steps add up to eps, and R+FGSM ends short of it by 2 alpha wherever the random
sign disagrees. On such a model neither can beat FGSM, which is the paper's
point about linearity.

With y=None the labels are the model's predictions on the clean x, fixed for
every step, so no label information leaks into x_adv.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from advref._validation import as_generator, check_batch, check_eps
from advref.attacks.fast_gradient import attack_arguments
from advref.models.validation import check_number, check_positive_int

if TYPE_CHECKING:
    from advref.models.protocol import Box, Differentiable, Seed


def iterative_settings(eps: float, steps: int = 10, step_size: float | None = None) -> dict:
    """The basic iterative method's settings with its default resolved, as the attack
    uses them: {"steps", "step_size"} (step_size None: 2.5 * eps / steps)."""
    eps, steps = check_eps(eps), check_positive_int(steps, "steps")
    if step_size is None:
        step_size = 2.5 * eps / steps
    return {"steps": steps,
            "step_size": check_number(step_size, "step_size", low=0.0, low_open=True)}


def random_step_settings(eps: float, alpha: float | None = None) -> dict:
    """R+FGSM's settings with its default resolved, as the attack uses them:
    {"alpha"} (alpha None: eps / 2; alpha may not exceed eps)."""
    eps = check_eps(eps)
    alpha = eps / 2 if alpha is None else check_number(alpha, "alpha", low=0.0)
    if alpha > eps:
        raise ValueError(f"alpha must be <= eps ({eps}), got {alpha} instead.")
    return {"alpha": alpha}


def iterative_fgsm(model: Differentiable, x: np.ndarray, eps: float, *, y: np.ndarray | None = None,
                   steps: int = 10, step_size: float | None = None, targeted: bool = False,
                   clip: Box = (0.0, 1.0), random_start: bool = False, rng: Seed = 0) -> np.ndarray:
    """The basic iterative method (projected gradient descent with random_start).

    steps sign steps of size step_size (default 2.5 * eps / steps), each projected
    onto the eps L_inf ball around x and onto clip (a (low, high) box, or None).
    random_start draws the start uniformly in the ball, from rng (a seed or a
    numpy Generator). Never modifies x; keeps its dtype.
    """
    x, eps, clip, y = attack_arguments(model, x, eps, y, targeted, clip, "iterative_fgsm")
    steps, step_size = iterative_settings(eps, steps, step_size).values()
    gen = as_generator(rng)
    low, high = x - eps, x + eps
    if clip is not None:
        np.maximum(low, clip[0], out=low)
        np.minimum(high, clip[1], out=high)
    x_adv = x.copy()
    if random_start:
        x_adv += gen.uniform(-eps, eps, size=x.shape).astype(x.dtype)
        np.clip(x_adv, low, high, out=x_adv)
    sign = -1.0 if targeted else 1.0
    scale = x.dtype.type(step_size)
    for _ in range(steps):
        _, grad = model.loss_grad(x_adv, y)
        step = np.sign(check_batch(grad, "the model's input gradient"))
        step *= sign * scale
        x_adv += step
        np.clip(x_adv, low, high, out=x_adv)
    return x_adv


def random_step_fgsm(model: Differentiable, x: np.ndarray, eps: float, *,
                     y: np.ndarray | None = None, alpha: float | None = None,
                     targeted: bool = False, clip: Box = (0.0, 1.0), rng: Seed = 0,
                     signs: np.ndarray | None = None) -> np.ndarray:
    """R+FGSM: a random sign step of alpha (default eps / 2), then FGSM of eps - alpha.

    rng (a seed or a numpy Generator) draws the random signs, sign(N(0, I)).
    signs, an array of -1 and +1 shaped like x, replaces the draw (rng is then
    unused), so that another implementation's random step can be replayed
    exactly. Never modifies x or signs.
    """
    x, eps, clip, y = attack_arguments(model, x, eps, y, targeted, clip, "random_step_fgsm")
    alpha = random_step_settings(eps, alpha)["alpha"]
    gen = as_generator(rng)
    if signs is None:
        start = np.sign(gen.standard_normal(x.shape)).astype(x.dtype)
    else:
        start = _check_signs(signs, x.shape).astype(x.dtype)
    start *= x.dtype.type(alpha)
    start += x
    if clip is not None:
        np.clip(start, clip[0], clip[1], out=start)
    _, grad = model.loss_grad(start, y)
    x_adv = np.sign(check_batch(grad, "the model's input gradient"))
    x_adv *= (-1.0 if targeted else 1.0) * x.dtype.type(eps - alpha)
    x_adv += start
    if clip is not None:
        np.clip(x_adv, clip[0], clip[1], out=x_adv)
    return x_adv



def _check_signs(signs, shape) -> np.ndarray:
    """signs as an array of x's shape whose every entry is -1 or +1."""
    if isinstance(signs, np.ndarray):
        arr = signs
    elif isinstance(signs, (list, tuple)):
        arr = np.asarray(signs)
    else:
        raise TypeError(f"signs must be an array of -1 and +1, got {type(signs).__name__} "
                        "instead.")
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"signs must be an array of -1 and +1 (integer or float), got dtype "
                        f"{arr.dtype} instead.")
    if arr.shape != shape:
        raise ValueError(f"signs must have x's shape {shape}, got {arr.shape} instead.")
    bad = ~((arr == 1) | (arr == -1))
    if bad.any():
        at = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"signs must hold only -1 and +1, got {arr[at].item()!r} at index {at} "
                         "instead.")
    return arr
