"""The validation errors that early stopping watches.

    "clean"        error_rate(model, x_valid, y_valid)
    "adversarial"  the error on FGSM examples of the validation set, made against
                   the model being monitored (the paper's choice for adversarial
                   training: the clean error flattens out while this one still falls)
    a function     (model, x, y) -> error
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from advref._validation import check_clip, check_eps, check_norm
from advref.analysis.metrics import error_rate
from advref.attacks.fast_gradient import fgsm

if TYPE_CHECKING:
    from advref.models.protocol import Box, Monitor


def adversarial_error(eps: float = 0.25, *, norm: float = np.inf,
                      clip: Box = (0.0, 1.0)) -> Monitor:
    """A monitor: error on the FGSM examples (true labels) of the monitored data."""
    eps, norm, clip = check_eps(eps), check_norm(norm), check_clip(clip)

    def monitor(model, x, y):
        return error_rate(model, fgsm(model, x, eps, y=y, norm=norm, clip=clip), y)

    return monitor


def resolve_monitor(monitor: str | Monitor, eps: float) -> Monitor:
    if callable(monitor):
        return monitor
    if monitor == "clean":
        return error_rate
    if monitor == "adversarial":
        return adversarial_error(eps)
    raise ValueError(f"monitor must be 'clean', 'adversarial' or a function, got {monitor!r} "
                     "instead.")
