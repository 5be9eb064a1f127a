"""Randomness without global state: every draw takes a Generator or an int seed."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from typing import Any

# What an `rng=` argument takes: an int seed or a Generator, or None where no
# randomness is used (a model's forward pass without dropout).
Seed = int | np.integer | np.random.Generator | None


def as_generator(rng: Any, name: str = "rng") -> np.random.Generator:
    """`rng` itself if it is a numpy Generator, else a new one seeded by the int
    `rng` (>= 0). None, bools, floats and negative seeds are refused: no unseeded
    or ambiguous draws."""
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        if rng < 0:
            raise ValueError(f"{name} must be a non-negative int seed or a numpy Generator, "
                             f"got {rng} instead.")
        return np.random.default_rng(int(rng))
    raise TypeError(f"{name} must be a numpy Generator or an int seed, got "
                    f"{type(rng).__name__} instead.")
