"""Hidden-layer activations, each forward rule beside its backward rule.

An activation maps pre-activations z (n, m_in) to h (n, m_out) and returns a
cache; `backward(dh, cache)` gives dz; `kink_distance(cache)` is how close any
pre-activation is to a point where the activation is not differentiable.

ReLU:   h = max(z, 0)            dz = dh * [z > 0]            kinks at z = 0
tanh:   h = tanh(z)              dz = dh * (1 - h^2)          smooth
Maxout with p pieces, units u:   m_in = u * p, pieces of unit j are the
        contiguous columns j*p .. j*p + p - 1:
        h_j = max_r z[:, j*p + r]
        dz[:, j*p + r] = dh_j if r is the FIRST maximal piece, else 0.
        A tie gives the whole gradient to the first maximal piece (argmax's
        rule); at a tie the function has no derivative, only this one-sided
        choice, which is why gradient checks keep away from ties.
"""

from __future__ import annotations

import numpy as np


class ReLU:
    name = "relu"

    def out_width(self, width):
        return width

    def forward(self, z):
        return np.maximum(z, 0), z

    def backward(self, dh, z):
        return dh * (z > 0)

    def kink_distance(self, z):
        return float(np.abs(z).min())


class Tanh:
    name = "tanh"

    def out_width(self, width):
        return width

    def forward(self, z):
        h = np.tanh(z)
        return h, h

    def backward(self, dh, h):
        return dh * (1 - h * h)

    def kink_distance(self, h):
        return float("inf")


class Maxout:
    name = "maxout"

    def __init__(self, pieces):
        self.pieces = pieces

    def out_width(self, width):
        return width // self.pieces

    def forward(self, z):
        n, width = z.shape
        pieces = z.reshape(n, width // self.pieces, self.pieces)   # a view, no copy
        # A running np.maximum over the pieces, one strided (n, u) view at a time:
        # about ten times faster than a reduction over the short last axis.
        h = pieces[:, :, 0].copy()
        for r in range(1, self.pieces):
            np.maximum(h, pieces[:, :, r], out=h)
        return h, (pieces, h)

    def backward(self, dh, cache):
        # The winner of unit j is the FIRST piece equal to h_j (argmax's tie rule).
        # Fast path: every maximal piece, by one broadcast comparison; it is the
        # winner whenever the maximum is unique. Only if some unit has two equal
        # maximal pieces is the exact first-winner rule applied (a loop over pieces).
        pieces, h = cache
        maximal = pieces == h[:, :, None]
        count = maximal[:, :, 0].astype(np.uint8)
        for r in range(1, self.pieces):
            count += maximal[:, :, r]
        if (count > 1).any():
            taken = np.zeros(h.shape, bool)
            for r in range(self.pieces):
                wins = maximal[:, :, r]
                wins &= ~taken
                taken |= wins
        dz = maximal * dh[:, :, None]
        return dz.reshape(len(dz), -1)

    def kink_distance(self, cache):
        pieces, _ = cache
        if self.pieces < 2:
            return float("inf")
        top2 = np.partition(pieces, -2, axis=2)[:, :, -2:]
        return float((top2[:, :, 1] - top2[:, :, 0]).min())
