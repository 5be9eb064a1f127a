"""Random perturbations with the FGSM budget: the paper's controls.

    random_sign:    x + eps * s,  s_j uniform in {-1, +1}     ||eta||_inf = eps
    random_uniform: x + u,        u_j ~ U(-eps, eps)          ||eta||_inf <= eps
Same seed, same bits. Clipping to the data box is an explicit option, as in fgsm.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from advref._validation import as_generator, check_batch, check_clip, check_eps, check_inside

if TYPE_CHECKING:
    from advref.models.protocol import Box, Seed


def _perturb(x, eps, rng, clip, draw):
    x = check_batch(x)
    eps, clip = check_eps(eps), check_clip(clip)
    check_inside(x, clip)
    gen = as_generator(rng)
    x_noisy = x + draw(gen, x.shape).astype(x.dtype) * x.dtype.type(eps)
    if clip is not None:
        np.clip(x_noisy, clip[0], clip[1], out=x_noisy)
    return x_noisy


def random_sign(x: np.ndarray, eps: float, rng: Seed, *, clip: Box = (0.0, 1.0)) -> np.ndarray:
    """x plus eps times independent random signs."""
    return _perturb(x, eps, rng, clip, lambda g, shape: g.choice(np.array([-1.0, 1.0]), shape))


def random_uniform(x: np.ndarray, eps: float, rng: Seed, *, clip: Box = (0.0, 1.0)) -> np.ndarray:
    """x plus independent U(-eps, eps) noise."""
    return _perturb(x, eps, rng, clip, lambda g, shape: g.uniform(-1.0, 1.0, shape))
