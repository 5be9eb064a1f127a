"""Hidden-layer activations, each forward rule beside its backward rule.

An activation maps pre-activations z (n, m_in) to h (n, m_out) and returns a
cache; `backward(dh, cache)` gives dz; `kink_distance(cache)` is how close any
pre-activation is to a point where the activation is not differentiable.

ReLU:   h = max(z, 0)            dz = dh * [z > 0]            kinks at z = 0
tanh:   h = tanh(z)              dz = dh * (1 - h^2)          smooth
Maxout with p pieces and u units: m_in = p * u, PIECE-MAJOR: column r*u + j
        is piece r of unit j, so z.reshape(n, p, u)[:, r, :] is piece r of every unit.
        The reference form (maxout_reference / maxout_backward_reference):
        h_j = max_r z[:, r*u + j]                      h = z.reshape(n, p, u).max(axis=1)
        dz[:, r*u + j] = dh_j if r is the FIRST maximal piece of unit j, else 0
                                                       (r = argmax over axis 1)
        A tie gives the whole gradient to the first maximal piece (argmax's
        rule); at a tie the function has no derivative, only this one-sided
        choice, which is why gradient checks keep away from ties.
        The layer computes the same numbers faster (tests check they agree): a
        running np.maximum over the p (n, u) slices, each row of which is u
        contiguous values, and one broadcast comparison with h going backward.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from typing import Any


class ReLU:
    """h = max(z, 0); dz = dh * [z > 0] (the subgradient 0 is taken at z = 0)."""

    name = "relu"

    def forward(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.maximum(z, 0), z

    def backward(self, dh: np.ndarray, z: np.ndarray) -> np.ndarray:
        return dh * (z > 0)

    def kink_distance(self, z: np.ndarray) -> float:
        return float(np.abs(z).min())


class Tanh:
    """h = tanh(z); dz = dh * (1 - h^2), from the cached h."""

    name = "tanh"

    def forward(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        h = np.tanh(z)
        return h, h

    def backward(self, dh: np.ndarray, h: np.ndarray) -> np.ndarray:
        return dh * (1 - h * h)

    def kink_distance(self, h: np.ndarray) -> float:
        return float("inf")


def maxout_reference(z: np.ndarray, pieces: int) -> np.ndarray:
    """h = max over pieces, written as the definition (the fast layer must agree)."""
    n, width = z.shape
    return z.reshape(n, pieces, width // pieces).max(axis=1)


def maxout_backward_reference(z: np.ndarray, dh: np.ndarray, pieces: int) -> np.ndarray:
    """dz: dh routed to each unit's first maximal piece (argmax), zero elsewhere."""
    n, width = z.shape
    winner = z.reshape(n, pieces, width // pieces).argmax(axis=1)      # (n, u)
    dz = np.zeros((n, pieces, width // pieces), dh.dtype)
    np.put_along_axis(dz, winner[:, None, :], dh[:, None, :], axis=1)
    return dz.reshape(n, width)


class Maxout:
    """h_j = max_r z[:, r*u + j] over p pieces (piece-major columns; module docstring)."""

    name = "maxout"

    def __init__(self, pieces: int) -> None:
        self.pieces = pieces

    def forward(self, z: np.ndarray) -> tuple[np.ndarray, Any]:
        n, width = z.shape
        pieces = z.reshape(n, self.pieces, width // self.pieces)   # a view, no copy
        h = pieces[:, 0].copy()
        for r in range(1, self.pieces):
            np.maximum(h, pieces[:, r], out=h)
        return h, (pieces, h)

    def backward(self, dh: np.ndarray, cache: Any) -> np.ndarray:
        """dz[:, r*u + j] = dh[:, j] if piece r is unit j's first maximal piece, else 0.

        winner[i, r, j] = [z_i[r*u + j] == h_i[j]] marks every maximal piece. When
        each unit has a unique maximum (exactly n*u marks), that is the winner.
        Otherwise a tie is present, and the marks are thinned to the first maximal
        piece, in place: walking r upward, a mark survives only if no earlier piece
        of its unit was already taken.
        """
        pieces, h = cache
        winner = pieces == h[:, None, :]
        if np.count_nonzero(winner) > h.size:
            taken = np.zeros(h.shape, bool)
            for r in range(self.pieces):
                wins = winner[:, r]          # a view: editing it edits winner
                wins &= ~taken
                taken |= wins
        dz = winner * dh[:, None, :]
        return dz.reshape(len(dz), -1)

    def kink_distance(self, cache: Any) -> float:
        pieces, _ = cache
        if self.pieces < 2:
            return float("inf")
        top2 = np.partition(pieces, -2, axis=1)[:, -2:]
        return float((top2[:, 1] - top2[:, 0]).min())
