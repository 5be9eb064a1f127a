"""The momentum update (v = mu v - s g; p = p + v), computed block by block.

For a parameter p with gradient g, velocity v (starting at 0), momentum mu and
step size s:

    v = mu * v - s * g
    p = p + v

`momentum_update_reference` writes this as four array-wide NumPy operations:
the definition. `momentum_update` performs the same four operations on blocks
of whole rows. Every element goes through the same float operations in the
same order (elementwise operations have no order between elements), so the two
give bit-identical p and v (tests/training/test_momentum.py checks it); g is not changed.
"""

from __future__ import annotations

import numpy as np

# Blocks of ~128 KB per array keep p, v, g and the scratch s*g in L2 across the
# four operations, so each array crosses the memory bus once (benchmarks/README.md).
BLOCK_BYTES = 128 * 1024


def momentum_update_reference(p: np.ndarray, v: np.ndarray, g: np.ndarray, mu: float,
                              step: float) -> None:
    """v = mu v - step g ; p = p + v, in place on p and v, array-wide."""
    v *= mu
    v -= step * g
    p += v


def block_rows(p: np.ndarray, block_bytes: int = BLOCK_BYTES) -> int:
    """How many leading-axis rows of p make about `block_bytes` (at least one)."""
    row_bytes = p.itemsize * max(1, p.size // max(1, len(p)))
    return max(1, block_bytes // row_bytes)


def momentum_update(p: np.ndarray, v: np.ndarray, g: np.ndarray, mu: float, step: float,
                    block_bytes: int = BLOCK_BYTES) -> None:
    """The same update as momentum_update_reference, block by block (see above).

    p, v and g must have one shape; p and v are updated in place, g is not modified.
    """
    if not (p.shape == v.shape == g.shape):
        raise ValueError(f"p, v and g need one shape, got {p.shape}, {v.shape} and "
                         f"{g.shape} instead.")
    if p.ndim == 0:
        momentum_update_reference(p, v, g, mu, step)
        return
    mu, step = p.dtype.type(mu), p.dtype.type(step)
    rows = block_rows(p, block_bytes)
    scratch = np.empty((min(rows, len(p)),) + p.shape[1:], p.dtype)
    for start in range(0, len(p), rows):
        stop = min(start + rows, len(p))
        s = scratch[:stop - start]
        np.multiply(g[start:stop], step, out=s)
        vb = v[start:stop]
        vb *= mu
        vb -= s
        p[start:stop] += vb
