"""Seeded high-dimensional Gaussian class data for tests and teaching.

Each class k has a mean mu_k whose coordinates are +-`separation`/sqrt(d) (a
random sign pattern), so the distance between two class means is about
`separation` * sqrt(2) whatever the dimension d; x = mu_y + `noise` * N(0, I).
With the defaults, a linear model is near-perfect on clean data, yet in high
dimension an L_inf step of small eps moves a linear score by eps*||w||_1, which
grows with d: the paper's linear explanation in miniature.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .seeding import as_generator

if TYPE_CHECKING:
    from numpy.typing import DTypeLike

    from advref.data_loaders.seeding import Seed


def gaussian_classes(n: int, d: int, k: int, *, rng: Seed, separation: float = 8.0,
                     noise: float = 1.0,
                     dtype: DTypeLike = np.float64) -> tuple[np.ndarray, np.ndarray]:
    """n examples of dimension d from k Gaussian classes (balanced, shuffled).

    Returns x (n, d) of `dtype` and y (n,) int64 in [0, k).
    """
    for label, value, low in (("n", n, 1), ("d", d, 1), ("k", k, 2)):
        if not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{label} must be an integer >= {low}, got {value!r} instead.")
    if not separation > 0 or not noise >= 0:
        raise ValueError(f"separation must be > 0 and noise >= 0, got {separation} and {noise} "
                         "instead.")
    gen = as_generator(rng)
    means = gen.choice([-1.0, 1.0], size=(k, d)) * (separation / np.sqrt(d))
    y = gen.permutation(np.arange(n) % k).astype(np.int64)
    x = means[y] + noise * gen.standard_normal((n, d))
    return x.astype(dtype, copy=False), y
