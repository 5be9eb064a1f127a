"""Transfer: how other models fare on one model's fast-gradient examples.

For source S, targets T_j and examples x with labels y, x_adv = fgsm(S, x, eps, y):
    error          T_j's error rate on x_adv
    same_class_on_source_mistakes   among the x_adv that S gets wrong, how often T_j
                                    predicts the same wrong class as S (the paper's
                                    "RBF / softmax predict maxout's class")
    same_class_on_both_wrong        the same count, over the x_adv that both get wrong
The paper reports both forms; both come with their counts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from advref._validation import check_batch, check_labels, class_count, require_methods
from advref.attacks.fast_gradient import fgsm

if TYPE_CHECKING:
    from collections.abc import Sequence

    from advref.models.protocol import Box, Classifier, Differentiable


def transfer(source_model: Differentiable, target_models: Sequence[Classifier], x: np.ndarray,
             y: np.ndarray, eps: float, *, norm: float = np.inf, clip: Box = (0.0, 1.0)) -> dict:
    """A dict per target (targets may be a dict name -> model or a list). Every target
    must have the source's class count."""
    require_methods(source_model, ("loss_grad", "predict", "predict_proba"), "transfer source")
    x = check_batch(x)
    k = class_count(source_model, x)
    y = check_labels(y, len(x), k)
    named = list(target_models.items() if isinstance(target_models, dict) else
                 ((f"target{i}", m) for i, m in enumerate(target_models)))
    for name, model in named:
        require_methods(model, ("predict", "predict_proba"), f"transfer target {name}")
        if class_count(model, x) != k:
            raise ValueError(f"transfer target {name} must have the source's {k} classes, got "
                             f"{class_count(model, x)} instead.")
    x_adv = fgsm(source_model, x, eps, y=y, norm=norm, clip=clip)
    source_pred = source_model.predict(x_adv)
    source_wrong = source_pred != y
    targets: dict[str, dict] = {}
    out = {"source_error": float(source_wrong.mean()), "eps": eps, "targets": targets}
    for name, model in named:
        pred = model.predict(x_adv)
        wrong = pred != y
        both = source_wrong & wrong
        same = both & (pred == source_pred)
        targets[name] = {
            "error": float(wrong.mean()),
            "same_class_on_source_mistakes": float(same.sum() / max(source_wrong.sum(), 1)),
            "same_class_on_both_wrong": float(same.sum() / max(both.sum(), 1)),
            "n_source_wrong": int(source_wrong.sum()), "n_both_wrong": int(both.sum()),
        }
    return out
