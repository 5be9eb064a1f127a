"""Data for advref: IDX files, verified MNIST, the bundled sample, synthetic classes.

Imports NumPy and the standard library only.
"""

from .idx import DataError, parse_idx, read_bytes, read_idx, write_idx
from .mnist import (
    Dataset,
    binary_subset,
    cache_dir,
    candidate_dirs,
    find_mnist,
    load_mnist,
    train_valid_split,
)
from .sample import load_mnist_sample, sample_available
from .synthetic import gaussian_classes

__all__ = [
    "DataError", "Dataset", "binary_subset", "cache_dir", "candidate_dirs", "find_mnist",
    "gaussian_classes", "load_mnist", "load_mnist_sample", "parse_idx", "read_bytes",
    "read_idx", "sample_available", "train_valid_split", "write_idx",
]
