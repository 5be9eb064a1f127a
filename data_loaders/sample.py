"""The bundled MNIST sample: 2,000 training and 1,000 test images, stratified.

200 training and 100 test images of each digit, drawn with a fixed seed from the
full MNIST files by `scripts/build_sample.py` and stored as uint8 in
`mnist_sample.npz` (package data). The sample lets every command run with no
download. MNIST: Y. LeCun, C. Cortes, C. J. C. Burges; CC BY-SA 3.0.
"""

from __future__ import annotations

import zipfile
from importlib import resources
from typing import TYPE_CHECKING

import numpy as np

from .idx import DataError
from .mnist import Dataset, images_to_float

if TYPE_CHECKING:
    from importlib.abc import Traversable

    from numpy.typing import DTypeLike


SAMPLE_FILE = "mnist_sample.npz"
TRAIN_PER_CLASS = 200
TEST_PER_CLASS = 100
SAMPLE_SEED = 20150101
KEYS = ("x_train", "y_train", "x_test", "y_test", "train_index", "test_index")


def stratified_indices(y: np.ndarray, per_class: int, rng: np.random.Generator) -> np.ndarray:
    """`per_class` indices of each class of y, drawn without replacement, sorted."""
    picks = [rng.choice(np.flatnonzero(y == c), per_class, replace=False)
             for c in np.unique(y)]
    return np.sort(np.concatenate(picks))


def sample_path() -> Traversable:
    return resources.files(__package__).joinpath(SAMPLE_FILE)


def sample_available() -> bool:
    return sample_path().is_file()


def load_sample_arrays() -> dict:
    """The raw uint8 arrays and original indices stored in the sample file."""
    path = sample_path()
    try:
        with path.open("rb") as f, np.load(f, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (OSError, ValueError, zipfile.BadZipFile) as err:
        raise DataError(f"{path}: the bundled MNIST sample cannot be read ({err})") from None
    missing = [k for k in KEYS if k not in arrays]
    if missing:
        raise DataError(f"{path}: the bundled MNIST sample lacks arrays {missing}")
    return arrays


def load_mnist_sample(*, dtype: DTypeLike = np.float64) -> Dataset:
    """The bundled sample in the same form as `load_mnist`: (n, 784) `dtype` in [0, 1]."""
    a = load_sample_arrays()
    return Dataset(images_to_float(a["x_train"], dtype), a["y_train"].astype(np.int64),
                   images_to_float(a["x_test"], dtype), a["y_test"].astype(np.int64))
