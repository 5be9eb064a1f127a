"""Input validation shared by every model: clear errors before any work.

Messages say what was expected and end "..., got X instead." Validation never
uses `assert` (it vanishes under python -O) and never copies or changes the
caller's array.
"""

from __future__ import annotations

import numpy as np

from data_loaders.seeding import as_generator  # noqa: F401  (re-exported)

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def check_float_dtype(dtype) -> np.dtype:
    dtype = np.dtype(dtype)
    if dtype not in FLOAT_DTYPES:
        raise TypeError(f"dtype must be float32 or float64, got {dtype} instead.")
    return dtype


def _check_array(a, name):
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {type(a).__name__} instead.")
    if type(a) is not np.ndarray:      # np.matrix, masked arrays: their arithmetic differs
        raise TypeError(f"{name} must be a plain numpy array, got {type(a).__name__} instead "
                        f"(convert with np.asarray({name})).")


def check_x(x, n_features=None, dtype=None, name="x") -> np.ndarray:
    """x as an (n, n_features) float array with n >= 1 and finite values; any width
    when n_features is None.

    With `dtype`, x must already have it: models do not silently cast.
    """
    _check_array(x, name)
    width = "d" if n_features is None else n_features
    if x.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n, {width}), got shape {x.shape} instead.")
    if n_features is not None and x.shape[1] != n_features:
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


def check_y(y, n: int, n_classes=None, name="y") -> np.ndarray:
    """y as an (n,) integer array of class indices in [0, n_classes) (any
    non-negative index when n_classes is None). One-hot labels are refused."""
    _check_array(y, name)
    if y.ndim == 2 and y.shape[0] == n:
        raise ValueError(f"{name} must be class indices of shape ({n},), got shape {y.shape} "
                         f"instead (one-hot labels? use {name}.argmax(axis=1)).")
    if y.ndim != 1 or len(y) != n:
        raise ValueError(f"{name} must have shape ({n},), got {y.shape} instead.")
    if y.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integer class indices, got dtype {y.dtype} instead.")
    high = n_classes if n_classes is not None else np.iinfo(np.int64).max
    if n and (y.min() < 0 or y.max() >= high):
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
