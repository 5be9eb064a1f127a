"""Input validation shared by every model: clear errors before any work.

Messages say what was expected and end "..., got X instead." Validation never
uses `assert` (it vanishes under python -O) and never copies or changes the
caller's array.
"""

from __future__ import annotations

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def check_float_dtype(dtype) -> np.dtype:
    dtype = np.dtype(dtype)
    if dtype not in FLOAT_DTYPES:
        raise TypeError(f"dtype must be float32 or float64, got {dtype} instead.")
    return dtype


def check_x(x, n_features: int, dtype=None, name="x") -> np.ndarray:
    """x as an (n, n_features) float array with n >= 1 and finite values.

    With `dtype`, x must already have it: models do not silently cast.
    """
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {type(x).__name__} instead.")
    if x.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n, {n_features}), got shape {x.shape} instead.")
    if x.shape[1] != n_features:
        raise ValueError(f"{name} must have {n_features} features per row, got shape {x.shape} "
                         "instead.")
    if x.shape[0] == 0:
        raise ValueError(f"{name} must hold at least one example, got shape {x.shape} instead.")
    if x.dtype not in FLOAT_DTYPES:
        raise TypeError(f"{name} must be float32 or float64, got {x.dtype} instead.")
    if dtype is not None and x.dtype != dtype:
        raise TypeError(f"{name} must have the model's dtype {np.dtype(dtype)}, got {x.dtype} "
                        f"instead (convert with {name}.astype(np.{np.dtype(dtype)}) or build "
                        "the model in that dtype).")
    if not np.isfinite(x).all():
        bad = int(np.count_nonzero(~np.isfinite(x)))
        raise ValueError(f"{name} must be finite, got {bad} NaN or infinite values instead.")
    return x


def check_y(y, n: int, n_classes: int, name="y") -> np.ndarray:
    """y as an (n,) integer array of class indices in [0, n_classes)."""
    if not isinstance(y, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {type(y).__name__} instead.")
    if y.ndim != 1 or len(y) != n:
        raise ValueError(f"{name} must have shape ({n},), got {y.shape} instead.")
    if y.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integer class indices, got dtype {y.dtype} instead.")
    if n and (y.min() < 0 or y.max() >= n_classes):
        raise ValueError(f"{name} must be class indices in [0, {n_classes}), got values from "
                         f"{y.min()} to {y.max()} instead.")
    return y


def check_positive_int(value, name, low=1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r} instead.")
    return int(value)


def check_probability(value, name, allow_zero=False) -> float:
    ok = (0.0 <= value <= 1.0) if allow_zero else (0.0 < value <= 1.0)
    if not ok:
        interval = "[0, 1]" if allow_zero else "(0, 1]"
        raise ValueError(f"{name} must be in {interval}, got {value!r} instead.")
    return float(value)


def as_generator(rng) -> np.random.Generator:
    """A numpy Generator from a Generator or an int seed."""
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise TypeError(f"rng must be a numpy Generator or an int seed, got {type(rng).__name__} "
                    "instead.")
