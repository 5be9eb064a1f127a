"""Virtual adversarial training (Miyato et al. 2016): smoothness without labels.

For a model with softmax scores, p = softmax(z) with z = z(x) is held constant and
q = softmax(z') with z' = z(x + r):

    KL_i(p || q) = sum_k p_ik (log p_ik - log q_ik),   log q = z' - logsumexp(z')
    dKL_i / dz'_i = q_i - p_i                            (the p log p term is constant)

Computed without cancelling (kl_between_scores): with d = z' - z, dbar = sum_k p_k
d_k and c = d - dbar (taken as e - ebar with e = d - d_m, m the most probable
class, so that no p_m ~ 1 term cancels), the identity
logsumexp(z') - logsumexp(z) = log sum_k p_k e^d_k gives
    KL = log sum_k p_k e^c_k = log1p(G),   G = sum_k p_k g(c_k),  g(c) = e^c - 1 - c >= 0
(sum_k p_k = 1 and sum_k p_k c_k = 0 exactly), and
    q_k - p_k = p_k (expm1(c_k) - G) / (1 + G).
G is a sum of non-negative terms and g is a series for small |c|, so a KL of
1e-7 keeps its digits; sum p (log p - log q) loses ~u / KL of them (5.8e-10
relative on the conformance vectors' softmax-l1-ties case), and q - p loses p's
tail at saturation.

The virtual adversarial direction is the dominant eigenvector of the Hessian of
KL at r = 0, found by power iteration: d ~ N(0, I), normalised per example, then
`iterations` times
    g = grad_r KL(p || q(x + xi d))   (backward of q - p through the model)
    d = g / ||g||_2
and r_vadv = eps * d. The VAT penalty is mean_i KL_i(p || q(x + r_vadv)), with r_vadv
and p constants; its parameter gradient is backward of (q - p) / n.

The penalty is computed in evaluation mode (no dropout), the supervised term in
training mode. In float32, coordinates of x near 1 cannot hold x + xi d for
xi = 1e-6 (MNIST's many zero pixels can); raise xi for such data if needed.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from advref._validation import (
    as_generator,
    check_batch,
    check_eps,
    check_positive_int,
    require_methods,
)
from advref.attacks.fast_gradient import linear_step
from advref.models.outputs import log_softmax

if TYPE_CHECKING:
    from typing import Any

    from advref.models.base import Model
    from advref.models.protocol import Grads, Seed, TrainingObjective


def check_softmax_model(model: Any) -> None:
    output = getattr(model, "output", None)     # protocol models may have none
    if output is not None and output.name != "softmax":
        raise ValueError(f"VAT needs softmax scores, got a model with {output.name} output "
                         "instead.")


# g(c) = e^c - 1 - c = c^2 (1/2! + c (1/3! + ...)): Horner's coefficients, to 1/18!
_G_SERIES = [1 / math.factorial(k) for k in range(18, 1, -1)]


def _g(c):
    """e^c - 1 - c without cancelling: its series below |c| = 1/2, expm1 above."""
    small = np.abs(c) < 0.5
    series = np.zeros_like(c)
    for coefficient in _G_SERIES:
        series = series * c + coefficient
    return np.where(small, series * c * c, np.expm1(c) - c)


def kl_between_scores(z: np.ndarray, z_adv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(KL_i(softmax(z) || softmax(z_adv)) (n,), dKL/dz_adv (n, k)), softmax(z) held
    constant; the module docstring derives the form."""
    log_p = log_softmax(z)
    p = np.exp(log_p)
    d = z_adv - z
    # c = d - dbar, centred first on the most probable class m: e_m = 0 exactly, so
    # sum_k p_k e_k holds no p_m ~ 1 term to cancel against (at saturation c_m is
    # -sum_(k != m) p_k e_k, ~1e-20, which d_m - dbar would lose entirely)
    e = d - np.take_along_axis(d, z.argmax(axis=1)[:, None], axis=1)
    c = e - (p * e).sum(axis=1, keepdims=True)
    big = c > 0.5
    small_c = np.where(big, 0.0, c)                 # the unused branch stays finite
    # p_k g(c_k), with e^(log p_k + c_k) where c_k is large: p_k may underflow to 0
    # while p_k e^c_k does not (a class the perturbation brings up from nowhere)
    grown = np.exp(np.where(big, log_p + c, 0.0))
    terms = np.where(big, grown - p * (1 + c), p * _g(small_c))
    total = terms.sum(axis=1, keepdims=True)
    moved = np.where(big, grown - p * (1 + total), p * (np.expm1(small_c) - total))
    return np.log1p(total[:, 0]), moved / (1 + total)


def unit_rows(v: np.ndarray) -> np.ndarray:
    """v / ||v||_2 per row (a zero row stays zero): the attacks' L2 step of size 1
    (advref.attacks.fast_gradient.linear_step), which rescales by max|v| first, so a
    row of any finite size, subnormal to the largest float, gives a unit direction."""
    return linear_step(v, 1.0, 2)


def check_input_of(model: Any, x: np.ndarray) -> np.ndarray:
    """x checked as a batch (float, finite, 2-D), and by the model where it can check."""
    x = check_batch(x)
    check = getattr(model, "check_input", None)
    return check(x)[0] if check is not None else x


def virtual_adversarial_perturbation(model: Model, x: np.ndarray, *, eps: float, xi: float = 1e-6,
                                     iterations: int = 1,
                                     rng: Seed = 0) -> tuple[np.ndarray, np.ndarray]:
    """(r_vadv (n, d) of L2 norm eps per row, by power iteration (module docstring),
    and the clean scores z(x) that hold p constant).

    Needs model.forward and model.backward: the KL is taken on the scores, and its
    input gradient back-propagated from them."""
    require_methods(model, ("forward", "backward"), "virtual adversarial training")
    check_softmax_model(model)
    eps, xi = check_eps(eps), check_eps(xi, "xi")
    iterations = check_positive_int(iterations, "iterations")
    x = check_input_of(model, x)
    gen = as_generator(rng)
    z_clean = model.forward(x)[0]
    d = unit_rows(gen.standard_normal(x.shape).astype(x.dtype))
    for _ in range(iterations):
        z, cache = model.forward(x + x.dtype.type(xi) * d)
        _, dz = kl_between_scores(z_clean, z)
        _, g = model.backward(cache, dz, need_params=False)
        live = np.any(g != 0, axis=1, keepdims=True)
        d = np.where(live, unit_rows(g), d)
    return x.dtype.type(eps) * d, z_clean


def vat_penalty(model: Model, x: np.ndarray, r: np.ndarray,
                z_clean: np.ndarray) -> tuple[float, Grads]:
    """(mean KL(p || q(x + r)), parameter grads) with r and p = softmax(z_clean),
    the clean scores, constants."""
    z, cache = model.forward(x + r)
    kl, dz = kl_between_scores(z_clean, z)
    grads, _ = model.backward(cache, dz / len(x), need_input=False)
    return kl.mean(), grads


def vat(eps: float, *, xi: float = 1e-6, iterations: int = 1, weight: float = 1.0,
        x_unlabelled: np.ndarray | None = None,
        unlabelled_batch: int | None = None) -> TrainingObjective:
    """Objective: supervised loss + weight * VAT penalty.

    Supervised VAT (x_unlabelled None) takes the penalty on the labelled batch;
    semi-supervised VAT draws `unlabelled_batch` rows (default: the labelled
    batch's size) from x_unlabelled, with replacement, for every update.
    """
    eps, xi = check_eps(eps), check_eps(xi, "xi")
    weight = check_eps(weight, "weight")
    iterations = check_positive_int(iterations, "iterations")
    if x_unlabelled is not None:
        x_unlabelled = check_batch(x_unlabelled, "x_unlabelled")
    if unlabelled_batch is not None:
        unlabelled_batch = check_positive_int(unlabelled_batch, "unlabelled_batch")

    def objective(model, x, y, rng):
        loss, grads = model.loss_and_grads(x, y, train=True, rng=rng)
        if x_unlabelled is None:
            xu = x
        else:
            size = unlabelled_batch or len(x)
            xu = x_unlabelled[rng.integers(0, len(x_unlabelled), size=size)]
        r, z_clean = virtual_adversarial_perturbation(model, xu, eps=eps, xi=xi,
                                                      iterations=iterations, rng=rng)
        kl, kl_grads = vat_penalty(model, xu, r, z_clean)
        return loss + weight * kl, {k: grads[k] + weight * kl_grads[k] for k in grads}

    return objective
