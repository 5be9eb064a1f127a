"""MNIST: find the four IDX files, verify them, and return float arrays in [0, 1].

Where `load_mnist` looks, in order: the `data_dir` argument, the `ADVREF_DATA`
environment variable, the user cache (`$XDG_CACHE_HOME/advref/mnist`, by
default `~/.cache/advref/mnist`). The first folder holding all four standard
files (gzipped or raw) is used. Every file is checked against the SHA-256 of its
decompressed content before it is parsed; a mismatch is an error.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from .download import download_mnist
from .idx import DataError, parse_idx
from .mnist_files import (  # noqa: F401  (part of this module's interface)
    FETCH_COMMAND,
    FILES,
    N_CLASSES,
    N_FEATURES,
    SHA256,
    cache_dir,
    candidate_dirs,
    file_in,
    find_mnist,
    present_file_in,
    verified_bytes,
)

if TYPE_CHECKING:
    from numpy.typing import DTypeLike


class Dataset(NamedTuple):
    """Train and test arrays: x is (n, 784) float in [0, 1], y is (n,) int64."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def not_found_error(data_dir: str | os.PathLike[str] | None = None) -> DataError:
    looked = "\n".join(f"  - {d}" for d in candidate_dirs(data_dir))
    return DataError("MNIST not found. Looked for the four files "
                     f"({', '.join(FILES)}; .gz or raw) in:\n{looked}\n"
                     f"Fetch them into the cache with `{FETCH_COMMAND}`, or set ADVREF_DATA "
                     "to a folder that holds them.")


def images_to_float(images: np.ndarray, dtype: DTypeLike) -> np.ndarray:
    """(n, 28, 28) uint8 -> (n, 784) `dtype` in [0, 1] (x / 255), one allocation."""
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"dtype must be a float dtype, got {dtype} instead.")
    out = images.reshape(len(images), -1).astype(dtype)
    np.divide(out, 255, out=out)
    return out


def load_mnist(data_dir: str | os.PathLike[str] | None = None, *, download: bool = False,
               dtype: DTypeLike = np.float64) -> Dataset:
    """Load and verify MNIST: 60,000 train and 10,000 test images.

    Images come as (n, 784) arrays of `dtype` in [0, 1] (pixel / 255), labels as
    int64. With `download=True`, missing files are fetched into the user cache
    (see `data_loaders.download`).
    """
    folder = find_mnist(data_dir)
    if folder is None and download:
        folder = download_mnist()
    if folder is None:
        raise not_found_error(data_dir)
    arrays = {}
    for name in FILES:
        path = present_file_in(folder, name)
        arrays[name] = parse_idx(verified_bytes(path, name), str(path))
    return Dataset(
        images_to_float(arrays["train-images-idx3-ubyte"], dtype),
        arrays["train-labels-idx1-ubyte"].astype(np.int64),
        images_to_float(arrays["t10k-images-idx3-ubyte"], dtype),
        arrays["t10k-labels-idx1-ubyte"].astype(np.int64),
    )


def train_valid_split(x: np.ndarray, y: np.ndarray, n_valid: int = 10_000
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The maxout recipe's split: the first n - n_valid examples train, the rest validate.

    For MNIST's 60,000 training images this is 0..50k / 50k..60k.
    Returns (x_train, y_train, x_valid, y_valid) as views.
    """
    n = len(x)
    if len(y) != n:
        raise ValueError(f"x and y must have the same length, got {n} and {len(y)} instead.")
    if not 0 < n_valid < n:
        raise ValueError(f"n_valid must be between 1 and {n - 1}, got {n_valid} instead.")
    cut = n - n_valid
    return x[:cut], y[:cut], x[cut:], y[cut:]


def binary_subset(x: np.ndarray, y: np.ndarray,
                  classes: tuple[int, int] = (3, 7)) -> tuple[np.ndarray, np.ndarray]:
    """The examples of two classes, relabelled 0 (first class) and 1 (second).

    Returns new arrays (x_sub, y_sub); y_sub is int64.
    """
    a, b = classes
    if a == b:
        raise ValueError(f"classes must be two different labels, got {classes} instead.")
    keep = (y == a) | (y == b)
    return x[keep], (y[keep] == b).astype(np.int64)
