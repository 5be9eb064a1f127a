"""Input validation shared by every model: clear errors before any work.

Messages say what was expected and end "..., got X instead." Validation never
uses `assert` (it vanishes under python -O) and never copies or changes the
caller's array.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import numpy as np

from advref.data_loaders.seeding import as_generator  # noqa: F401  (re-exported)

if TYPE_CHECKING:
    from typing import Any

    from numpy.typing import DTypeLike

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def check_float_dtype(dtype: Any, name: str = "dtype") -> np.dtype:
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{name} must be float32 or float64, got {dtype!r} instead.") from None
    if dtype not in FLOAT_DTYPES:
        raise TypeError(f"{name} must be float32 or float64, got {dtype} instead.")
    return dtype


def _check_array(a, name):
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {type(a).__name__} instead.")
    if type(a) is not np.ndarray:      # np.matrix, masked arrays: their arithmetic differs
        raise TypeError(f"{name} must be a plain numpy array, got {type(a).__name__} instead "
                        f"(convert with np.asarray({name})).")


def check_x(x: Any, n_features: int | None = None, dtype: DTypeLike | None = None,
            name: str = "x") -> np.ndarray:
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


def check_y(y: Any, n: int, n_classes: int | None = None, name: str = "y") -> np.ndarray:
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


MAX_SIZE = 2**31 - 1


def check_positive_int(value: Any, name: str, low: int = 1, high: int = MAX_SIZE) -> int:
    """An int (not a bool) in [low, high]; sizes above 2^31 - 1 are refused."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer >= {low}, got {type(value).__name__} "
                        f"{value!r} instead.")
    if not low <= value <= high:
        shown = value if abs(value) < 10**20 else f"an integer of {len(str(value))} digits"
        raise ValueError(f"{name} must be an integer in [{low}, {high}], got {shown} instead.")
    return int(value)


def check_number(value: Any, name: str, *, low: float | None = None, high: float | None = None,
                 low_open: bool = False, high_open: bool = False) -> float:
    """A finite real number (not a bool, not a string) in the given bounds, as a float.

    low/high bound it; low_open/high_open make that bound strict.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} {value!r} "
                        "instead.")
    try:
        f = float(value)
    except OverflowError:
        raise ValueError(f"{name} must be a finite number, got {value!r}, too large for a "
                         "float, instead.") from None
    if not np.isfinite(f):
        raise ValueError(f"{name} must be a finite number, got {value!r} instead.")
    if low is not None and high is not None and (
            (f <= low if low_open else f < low) or (f >= high if high_open else f > high)):
        raise ValueError(f"{name} must be in {'(' if low_open else '['}{low}, {high}"
                         f"{')' if high_open else ']'}, got {value!r} instead.")
    if low is not None and (f <= low if low_open else f < low):
        raise ValueError(f"{name} must be {'>' if low_open else '>='} {low}, got {value!r} "
                         "instead.")
    if high is not None and (f >= high if high_open else f > high):
        raise ValueError(f"{name} must be {'<' if high_open else '<='} {high}, got {value!r} "
                         "instead.")
    return f


def check_int_tuple(values: Any, name: str) -> tuple:
    """A non-empty tuple of integers >= 1 (a list or tuple; a bare int is refused)."""
    if isinstance(values, (int, np.integer, str, bytes)) or not hasattr(values, "__iter__"):
        raise TypeError(f"{name} must be a tuple of integers, e.g. ({values!r},), got "
                        f"{type(values).__name__} {values!r} instead.")
    values = tuple(values)
    if not values:
        raise ValueError(f"{name} must name at least one layer, got () instead.")
    return tuple(check_positive_int(v, name) for v in values)


def check_probability(value: Any, name: str, allow_zero: bool = False) -> float:
    return check_number(value, name, low=0.0, high=1.0, low_open=not allow_zero)


def physical_memory() -> int | None:
    """This machine's memory in bytes, or None where the OS does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(nbytes: int, name: str, what: str) -> None:
    """Refuse, before allocating anything, what needs more bytes than the machine has."""
    total = physical_memory()
    if total is not None and nbytes > total:
        raise ValueError(f"{name} must fit in this machine's {total / 2**30:,.1f} GiB of "
                         f"memory, got {what} needing {nbytes / 2**30:,.1f} GiB instead.")
