"""Rubbish-class (fooling) examples: inputs of no class that a model labels anyway.

Samples come from N(0, I) (the paper's test on maxout) or from a Gaussian fitted
to the training inputs, x ~ N(mean, diag(var)) per pixel (the lecture's benchmark,
with a diagonal covariance: a full 784 x 784 fit is possible but the lecture's
recipe does not depend on it). A model "errs" on a sample when any class gets
probability > .5. With eps and a target class, one targeted FGSM step is taken
toward the target first and the rate of reaching it is reported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from advref._validation import (
    as_generator,
    check_batch,
    check_eps,
    check_labels,
    check_number,
    check_positive_int,
    class_count,
    require_methods,
)
from advref.attacks.fast_gradient import fgsm
from advref.models.validation import check_float_dtype, check_memory

if TYPE_CHECKING:
    from numpy.typing import DTypeLike

    from advref.models.protocol import Differentiable, Seed

SOURCES = ("standard-normal", "gaussian-fit")


def check_rubbish_memory(n: int, d: int, dtype: DTypeLike, name: str = "n") -> None:
    """Refuse n samples of d values whose draw (float64, then cast) and one attacked
    copy of them cannot fit in memory, before drawing anything."""
    check_memory(n * d * (8 + 2 * np.dtype(dtype).itemsize), name, f"{name}={n:,} samples of {d}")


def rubbish_samples(n: int, *, source: str = "gaussian-fit", x_train: np.ndarray | None = None,
                    rng: Seed, dtype: DTypeLike | None = None) -> np.ndarray:
    """n samples of shape (n, d): `source` "standard-normal" needs x_train or dtype for d."""
    n = check_positive_int(n, "n")
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, got {source!r} instead.")
    if x_train is None:
        raise ValueError("rubbish_samples needs x_train (for the dimension, and for the fit "
                         "with source='gaussian-fit'), got None instead.")
    x_train = check_batch(x_train, "x_train")
    dtype = x_train.dtype if dtype is None else check_float_dtype(dtype)
    d = x_train.shape[1]
    check_rubbish_memory(n, d, dtype)
    gen = as_generator(rng)
    noise = gen.standard_normal((n, d))
    if source == "standard-normal":
        return noise.astype(dtype)
    mean, std = x_train.mean(axis=0), x_train.std(axis=0)
    return (mean + std * noise).astype(dtype)


def rubbish_step(model: Differentiable, samples: np.ndarray, eps: float, target: int) -> np.ndarray:
    """One targeted FGSM step of eps toward class `target`, unclipped (the lecture's
    rubbish-class benchmark)."""
    targets = np.full(len(samples), int(target))
    return fgsm(model, samples, eps, y=targets, targeted=True, clip=None)


def rubbish_report(model: Differentiable, samples: np.ndarray, *, eps: float | None = None,
                   target: int | None = None, threshold: float = 0.5) -> dict:
    """Rates of false positives on rubbish samples, before (and after) a targeted step.

    Returns: fooled_rate (any class p > threshold), mean confidence on the fooled,
    class histogram of the fooled (their argmax), and with eps/target the rate at
    which one targeted FGSM step (no clipping) makes the target the argmax.
    """
    require_methods(model, ("predict_proba", "predict") if eps is None else
                    ("predict_proba", "predict", "loss_grad"), "rubbish_report")
    samples = check_batch(samples, "samples")
    threshold = check_number(threshold, "threshold", low=0.0, high=1.0)
    if target is not None:
        target = check_labels(np.atleast_1d(target), 1, class_count(model, samples),
                              name="target")[0]

    def fooled_stats(x):
        proba = model.predict_proba(x)
        fooled = proba.max(axis=1) > threshold
        hist = np.bincount(proba.argmax(axis=1)[fooled], minlength=proba.shape[1])
        return {"fooled_rate": float(fooled.mean()),
                "mean_confidence_fooled": float(proba.max(axis=1)[fooled].mean())
                if fooled.any() else float("nan"),
                "class_histogram": hist.tolist()}

    report = {"n": int(len(samples)), "threshold": threshold, **fooled_stats(samples)}
    if (eps is None) != (target is None):
        raise ValueError(f"eps and target go together, got eps={eps} and target={target} "
                         "instead.")
    if eps is not None and target is not None:
        eps = check_eps(eps)
        stepped = rubbish_step(model, samples, eps, target)
        report.update({"eps": eps, "target": int(target),
                       "target_rate": float(np.mean(model.predict(stepped) == target)),
                       "after_step": fooled_stats(stepped)})
    return report
