"""Virtual adversarial training (Miyato et al. 2016): smoothness without labels.

For a model with softmax scores, p = softmax(z(x)) is held constant and
q = softmax(z(x + r)):

    KL_i(p || q) = sum_k p_ik (log p_ik - log q_ik),   log q = z' - logsumexp(z')
    dKL_i / dz'_i = q_i - p_i                            (the p log p term is constant)

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

import numpy as np

from advref._validation import (
    as_generator,
    check_batch,
    check_eps,
    check_positive_int,
    require_methods,
)
from advref.attacks.fast_gradient import linear_step
from advref.models.outputs import log_softmax, softmax


def check_softmax_model(model):
    output = getattr(model, "output", None)     # protocol models may have none
    if output is not None and output.name != "softmax":
        raise ValueError(f"VAT needs softmax scores, got a model with {output.name} output "
                         "instead.")


def kl_from_scores(p, z):
    """(KL_i(p || softmax(z)) (n,), dKL/dz (n, k)) for constant p."""
    log_q = log_softmax(z)
    safe_p = np.where(p > 0, p, 1)
    kl = (p * (np.log(safe_p) - log_q)).sum(axis=1)
    return kl, np.exp(log_q) - p


def unit_rows(v):
    """v / ||v||_2 per row (a zero row stays zero): the attacks' L2 step of size 1
    (advref.attacks.fast_gradient.linear_step), which rescales by max|v| first, so a
    row of any finite size, subnormal to the largest float, gives a unit direction."""
    return linear_step(v, 1.0, 2)


def check_input_of(model, x):
    """x checked as a batch (float, finite, 2-D), and by the model where it can check."""
    x = check_batch(x)
    check = getattr(model, "check_input", None)
    return check(x)[0] if check is not None else x


def virtual_adversarial_perturbation(model, x, *, eps, xi=1e-6, iterations=1, rng=0):
    """r_vadv (n, d) of L2 norm eps per row, by power iteration (module docstring).

    Needs model.forward and model.backward: the KL is taken on the scores, and its
    input gradient back-propagated from them."""
    require_methods(model, ("forward", "backward"), "virtual adversarial training")
    check_softmax_model(model)
    eps, xi = check_eps(eps), check_eps(xi, "xi")
    iterations = check_positive_int(iterations, "iterations")
    x = check_input_of(model, x)
    gen = as_generator(rng)
    p = softmax(model.forward(x)[0])
    d = unit_rows(gen.standard_normal(x.shape).astype(x.dtype))
    for _ in range(iterations):
        z, cache = model.forward(x + x.dtype.type(xi) * d)
        _, dz = kl_from_scores(p, z)
        _, g = model.backward(cache, dz, need_params=False)
        live = np.any(g != 0, axis=1, keepdims=True)
        d = np.where(live, unit_rows(g), d)
    return x.dtype.type(eps) * d, p


def vat_penalty(model, x, r, p):
    """(mean KL(p || q(x + r)), parameter grads) with r and p constants."""
    z, cache = model.forward(x + r)
    kl, dz = kl_from_scores(p, z)
    grads, _ = model.backward(cache, dz / len(x), need_input=False)
    return kl.mean(), grads


def vat(eps, *, xi=1e-6, iterations=1, weight=1.0, x_unlabelled=None, unlabelled_batch=None):
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
        r, p = virtual_adversarial_perturbation(model, xu, eps=eps, xi=xi,
                                                iterations=iterations, rng=rng)
        kl, kl_grads = vat_penalty(model, xu, r, p)
        return loss + weight * kl, {k: grads[k] + weight * kl_grads[k] for k in grads}

    return objective
