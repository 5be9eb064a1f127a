"""The data choices of the command line: full MNIST, the bundled sample, 3 vs 7."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from advref.data_loaders import binary_subset, find_mnist, load_mnist, load_mnist_sample

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import DTypeLike

DATA_CHOICES = ("mnist", "sample", "binary37", "binary37-sample")


def load_data(name: str,
              dtype: DTypeLike) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """(x_train, y_train, x_test, y_test, n_classes) for a --data choice."""
    if name not in DATA_CHOICES:
        raise ValueError(f"data must be one of {DATA_CHOICES}, got {name!r} instead.")
    data = load_mnist_sample(dtype=dtype) if name.endswith("sample") else load_mnist(dtype=dtype)
    if name.startswith("binary37"):
        xtr, ytr = binary_subset(data.x_train, data.y_train, (3, 7))
        xte, yte = binary_subset(data.x_test, data.y_test, (3, 7))
        return xtr, ytr, xte, yte, 2
    return data.x_train, data.y_train, data.x_test, data.y_test, 10


def default_data(binary: bool = False) -> str:
    """Full MNIST when it is found, else the bundled sample (said on stderr)."""
    if find_mnist() is not None:
        return "binary37" if binary else "mnist"
    print("full MNIST not found: using the bundled sample (run `advref data fetch`)",
          file=sys.stderr)
    return "binary37-sample" if binary else "sample"
