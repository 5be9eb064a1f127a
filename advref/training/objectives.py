"""Training objectives for advref.train: adversarial training and its controls.

Each factory returns a function (model, x, y, rng) -> (mean loss, grads), the
trainer's `objective`.

Adversarial training (paper section 6):
    J~(theta) = alpha * J(theta, x, y) + (1 - alpha) * J(theta, x_adv, y)
    x_adv     = clip(x + eps * sign(grad_x J(theta, x, y)))      (any norm)
x_adv is made afresh for every minibatch against the current parameters and is
a constant: no gradient flows through sign(), so
    grad_theta J~ = alpha * grad_theta J(x) + (1 - alpha) * grad_theta J(x_adv).
How x_adv's gradient is taken is a choice, `grad`:
    "eval"   grad_x J(theta, x, y) in evaluation mode (no dropout, model.loss_grad):
             the model a test-time attacker sees;
    "train"  grad_x J_train(theta, x, y; m), the training-mode loss under a dropout
             mask m drawn for this gradient alone (before the terms' own masks):
                 x_adv = clip(x + eps * sign(grad_x J_train(x; m)))
             For the feedforward nets d_x = du_0 * m_0 (models.feedforward), so
             inputs that m_0 drops get a zero gradient and sign 0: x_adv leaves
             them unchanged. This is what differentiating the cost being trained
             gives when that cost has dropout (a Theano/pylearn2 J(theta, x +
             eps sign(grad_x J))): the reproduction's hypothesis of how the paper
             made x_adv (docs/results-paper.md).
Either way the two loss terms are then evaluated in training mode, each with its
own independently drawn dropout mask (the clean half first). alpha = 1 is exactly
clean training: nothing else is drawn or computed. At alpha = 1/2 (the paper's
value) the objective is the mean loss over the stacked batch [x; x_adv], so one
forward and backward of 2n rows computes it (bigger matrix products, the
parameter gradients summed by the products themselves); other alphas take two
passes.

Noise controls: the same mixture with x' = x + random signs (+-eps) or
x' = x + U(-eps, eps), in place of x_adv (advref.attacks.noise).

`objective_value` measures an objective's value on data without updating
anything (the continue rule of advref.training.second_stage stops on it).
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from advref._validation import check_clip, check_eps, check_norm, check_number
from advref.attacks.fast_gradient import attack_arguments, fgsm, step_along
from advref.attacks.noise import random_sign, random_uniform

if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from advref.models.protocol import Box, Grads, Perturbation, Trainable, TrainingObjective


def clean_objective(model: Trainable, x: np.ndarray, y: np.ndarray,
                    rng: np.random.Generator) -> tuple[float, Grads]:
    """J(theta, x, y) in training mode (dropout on): (mean loss, grads)."""
    return model.loss_and_grads(x, y, train=True, rng=rng)


def mean_loss(model: Trainable, x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> float:
    """The training-mode mean loss; models without `mean_loss` pay for a backward pass."""
    f = getattr(model, "mean_loss", None)
    if f is not None:
        return f(x, y, train=True, rng=rng)
    return model.loss_and_grads(x, y, train=True, rng=rng)[0]


def objective_value(objective: TrainingObjective, model: Trainable, x: np.ndarray, y: np.ndarray,
                    rng: np.random.Generator, batch_size: int = 1000) -> float:
    """The mean of `objective` over (x, y) at the current parameters, in batches of
    `batch_size` (each batch weighted by its size); nothing is updated. Uses
    objective.value where the objective offers it, else discards its gradients."""
    value = getattr(objective, "value", None)
    if value is None:
        value = (lambda m, xb, yb, r: mean_loss(m, xb, yb, r)) if objective is clean_objective \
            else (lambda m, xb, yb, r: objective(m, xb, yb, r)[0])
    total = 0.0
    for i in range(0, len(x), batch_size):
        total += float(value(model, x[i:i + batch_size], y[i:i + batch_size], rng)) * \
            len(x[i:i + batch_size])
    return total / len(x)


def check_alpha(alpha: Any) -> float:
    return check_number(alpha, "alpha", low=0.0, high=1.0)


def mixed_objective(perturb: Perturbation, alpha: float) -> TrainingObjective:
    """alpha * J(x) + (1 - alpha) * J(perturb(model, x, y, rng)), x' held constant."""
    alpha = check_alpha(alpha)

    def objective(model, x, y, rng):
        if alpha == 1.0:
            return clean_objective(model, x, y, rng)
        x_other = perturb(model, x, y, rng)
        if alpha == 0.0:
            return model.loss_and_grads(x_other, y, train=True, rng=rng)
        if alpha == 0.5:
            return model.loss_and_grads(np.concatenate([x, x_other]), np.concatenate([y, y]),
                                        train=True, rng=rng)
        loss_c, grads = model.loss_and_grads(x, y, train=True, rng=rng)
        loss_o, grads_o = model.loss_and_grads(x_other, y, train=True, rng=rng)
        for k, g in grads.items():          # fresh arrays from backward: combined in place
            g *= alpha
            g += (1 - alpha) * grads_o[k]
        return alpha * loss_c + (1 - alpha) * loss_o, grads

    def value(model, x, y, rng):
        """The objective's value alone (no gradient, no update): the same terms."""
        if alpha == 1.0:
            return mean_loss(model, x, y, rng)
        x_other = perturb(model, x, y, rng)
        if alpha == 0.0:
            return mean_loss(model, x_other, y, rng)
        return alpha * mean_loss(model, x, y, rng) + (1 - alpha) * mean_loss(model, x_other,
                                                                            y, rng)

    cast(Any, objective).value = value
    return objective


ADV_GRADS = ("eval", "train")


def check_adv_grad(grad: Any) -> str:
    if not isinstance(grad, str) or grad not in ADV_GRADS:
        raise ValueError(f"grad (how x_adv's gradient is taken) must be one of "
                         f"{', '.join(ADV_GRADS)}, got {grad!r} instead.")
    return grad


def training_mode_fgsm(model: Any, x: np.ndarray, y: np.ndarray, rng: np.random.Generator,
                       eps: float, norm: float, clip: Box) -> np.ndarray:
    """x_adv from the training-mode loss under its own dropout mask (grad="train")."""
    x, eps, clip, y = attack_arguments(model, x, eps, y, False, clip, "adversarial training")
    parameters: Mapping[str, inspect.Parameter]
    try:
        parameters = inspect.signature(model.loss_grad).parameters
    except (TypeError, ValueError):
        parameters = {}
    if "train" not in parameters and not any(p.kind is p.VAR_KEYWORD
                                             for p in parameters.values()):
        raise TypeError(f"adversarial(grad='train') needs model.loss_grad(x, y, train=True, "
                        f"rng=rng), got a {type(model).__name__} whose loss_grad takes no "
                        "train argument instead.")
    _, grad = model.loss_grad(x, y, train=True, rng=rng)
    return step_along(x, grad, eps, norm, clip=clip)


def adversarial(eps: float = 0.25, alpha: float = 0.5, *, norm: float = np.inf,
                clip: Box = (0.0, 1.0), grad: str = "eval") -> TrainingObjective:
    """The adversarial training objective (module docstring); `grad` says how x_adv's
    input gradient is taken: "eval" (no dropout) or "train" (its own dropout mask)."""
    eps, norm, clip = check_eps(eps), check_norm(norm), check_clip(clip)
    if check_adv_grad(grad) == "train":
        return mixed_objective(lambda model, x, y, rng: training_mode_fgsm(
            model, x, y, rng, eps, norm, clip), alpha)
    return mixed_objective(lambda model, x, y, rng: fgsm(model, x, eps, y=y, norm=norm,
                                                         clip=clip), alpha)


def noise(kind: str = "sign", eps: float = 0.25, alpha: float = 0.5, *,
          clip: Box = (0.0, 1.0)) -> TrainingObjective:
    """Training on random sign noise (+-eps) or uniform U(-eps, eps) noise."""
    draws = {"sign": random_sign, "uniform": random_uniform}
    if kind not in draws:
        raise ValueError(f"noise kind must be 'sign' or 'uniform', got {kind!r} instead.")
    eps, clip = check_eps(eps), check_clip(clip)
    draw = draws[kind]
    return mixed_objective(lambda model, x, y, rng: draw(x, eps, rng, clip=clip), alpha)
