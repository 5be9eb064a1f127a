"""advref's argument checks; the array checks themselves live in models.validation.

Every check raises before any work, with a message that ends "..., got X instead."
Attacks depend only on the model protocol, so x is checked without knowing
the model's feature count (the model's own loss_grad checks that).
"""

from __future__ import annotations

import numpy as np

from advref.models.validation import (  # noqa: F401  (re-exported: one place for advref's checks)
    FLOAT_DTYPES,
    as_generator,
    check_number,
    check_positive_int,
    check_x,
    check_y,
)

NORMS = {np.inf: np.inf, "inf": np.inf, 2: 2, "2": 2, 1: 1, "1": 1}


def check_batch(x, name="x") -> np.ndarray:
    """A non-empty 2-D float32/float64 array of finite values, any width."""
    return check_x(x, None, name=name)


def check_eps(eps, name="eps") -> float:
    if isinstance(eps, bool) or not isinstance(eps, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {type(eps).__name__} instead.")
    try:
        value = float(eps)
    except OverflowError:
        raise ValueError(f"{name} must be >= 0 and finite, got {eps!r}, too large for a float, "
                         "instead.") from None
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be >= 0 and finite, got {eps} instead.")
    return value


def check_norm(norm):
    try:
        return NORMS[norm]
    except (KeyError, TypeError):
        raise ValueError(f"norm must be np.inf, 2 or 1, got {norm!r} instead.") from None


def check_clip(clip):
    """None, or a (low, high) pair with low < high."""
    if clip is None:
        return None
    if isinstance(clip, (str, bytes)) or not hasattr(clip, "__len__") or len(clip) != 2:
        raise TypeError(f"clip must be None or a (low, high) pair of numbers, got "
                        f"{type(clip).__name__} {clip!r} instead.")
    low, high = (check_number(v, "clip") for v in clip)
    if not low < high:
        raise ValueError(f"clip must have low < high, got ({low}, {high}) instead.")
    return low, high


def check_inside(x, clip, name="x"):
    """Data outside the clip box is refused: clipping it would move it further than
    eps. Pass clip=None to attack data that lives elsewhere."""
    if clip is not None and (x.min() < clip[0] or x.max() > clip[1]):
        raise ValueError(f"{name} must lie inside the clip box [{clip[0]}, {clip[1]}] (or pass "
                         f"clip=None), got values from {x.min()} to {x.max()} instead.")


def check_labels(y, n, n_classes=None, name="y") -> np.ndarray:
    """An (n,) integer array (lists are converted); in [0, n_classes) when the class
    count is known."""
    if not isinstance(y, np.ndarray):
        y = np.asarray(y)
    return check_y(y, n, n_classes, name=name)


def class_count(model, x=None):
    """The model's class count: n_classes if it says, else the width of predict_proba
    (None for a model with neither: fgsm with given labels needs only loss_grad)."""
    k = getattr(model, "n_classes", None)
    if k is None and x is not None and callable(getattr(model, "predict_proba", None)):
        k = model.predict_proba(x[:1]).shape[1]
    return k


def require_methods(model, names, who):
    """Name the first protocol method (models.base) that `model` lacks, for `who`."""
    for name in names:
        if not callable(getattr(model, name, None)):
            raise TypeError(f"{who} needs a model with {', '.join(names)} (models.base), got a "
                            f"{type(model).__name__} without {name} instead.")
    return model


class MissingDependency(ImportError):
    """An optional package a feature needs is not installed (the message says which)."""


def require_scipy(who):
    """Fail in one sentence, before any work, where SciPy is not installed: only the
    L-BFGS-B features (minimal perturbations) need it."""
    try:
        import scipy.optimize  # noqa: F401
    except ImportError:
        raise MissingDependency(f"{who} needs SciPy (its L-BFGS-B optimizer), which is not "
                                "installed here: pip install scipy") from None

