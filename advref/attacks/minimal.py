"""Minimal adversarial perturbations: the public entry and the linear closed form.

`minimal_perturbation` checks its arguments and runs, for every row, the search
of advref.attacks.minimal_search (Szegedy et al. 2014: the largest penalty c
whose box-constrained L-BFGS-B minimiser of c ||r||^2 + J(x + r, t) reaches t):
  - batch=None: one example, one solve at a time, the definition;
  - batch=B: up to B searches side by side, each solve's objective evaluated in
    one batched model call per round (advref.attacks.minimal_batched); the same
    searches and solver steps, for many examples at once.

For a binary linear model the answer is known in closed form
(`linear_minimal_perturbation`): the distance to the hyperplane w.x + b = 0 is
|w.x + b| / ||w||_2 in L2 and |w.x + b| / ||w||_1 in L_inf.
"""

from __future__ import annotations

import warnings
from functools import partial
from typing import TYPE_CHECKING

import numpy as np

from advref._blas_threads import scipy_blas_single_thread
from advref._validation import (
    check_batch,
    check_clip,
    check_inside,
    check_labels,
    check_norm,
    check_number,
    check_positive_int,
    class_count,
    require_methods,
    require_scipy,
)
from advref.attacks.minimal_batched import reverse_communication_works, search_many
from advref.attacks.minimal_processes import MAX_PROCESSES, run_in_processes, shares
from advref.attacks.minimal_search import DEFAULTS, TOLERANCES, MinimalResult, search_one

if TYPE_CHECKING:
    from typing import Any

    from advref.models.protocol import Box, Differentiable

__all__ = ["MinimalResult", "linear_minimal_perturbation", "minimal_perturbation"]


def minimal_perturbation(model: Differentiable, x: np.ndarray, *,
                         target: int | np.ndarray | None = None, y: np.ndarray | None = None,
                         clip: Box = (0.0, 1.0), candidates: int | None = None,
                         batch: int | None = None, processes: int = 1,
                         **options: Any) -> list[MinimalResult]:
    """A MinimalResult per row of x.

    target: int or (n,) array of target classes; None means untargeted: every class
    other than y (or the model's prediction when y is None), or the `candidates`
    highest-scoring ones, is tried and the smallest success kept. options override
    DEFAULTS (ftol/gtol None: by dtype, see TOLERANCES). batch: None solves one
    example at a time (the definition); an integer B runs up to B searches side by
    side with pooled model evaluations (advref.attacks.minimal_batched: same
    searches, same results up to the model's batched rounding). processes: with
    batch, the examples are shared among this many processes, each searching its
    share batched with one BLAS thread (advref.attacks.minimal_processes: the
    same searches, other rounds, so other last bits than one process).

    Needs model.loss_grad, model.predict and model.predict_proba.
    """
    require_methods(model, ("loss_grad", "predict", "predict_proba"), "minimal_perturbation")
    x = check_batch(x)
    clip = check_clip(clip)
    check_inside(x, clip)
    unknown = set(options) - set(DEFAULTS)
    if unknown:
        raise TypeError(f"unknown options {sorted(unknown)}; known: {sorted(DEFAULTS)}")
    settings = {**DEFAULTS, **options, "clip": clip, "method": "L-BFGS-B",
                "penalty": "c * ||r||_2^2"}
    ftol, gtol = TOLERANCES[x.dtype]
    settings["ftol"] = ftol if settings["ftol"] is None else settings["ftol"]
    settings["gtol"] = gtol if settings["gtol"] is None else settings["gtol"]
    settings["c_init"] = check_number(settings["c_init"], "c_init", low=0.0, low_open=True)
    settings["c_factor"] = check_number(settings["c_factor"], "c_factor", low=1.0,
                                        low_open=True)
    for name in ("max_scale", "bisect_steps"):
        settings[name] = check_positive_int(settings[name], name, low=0)
    settings["maxiter"] = check_positive_int(settings["maxiter"], "maxiter")
    for name in ("ftol", "gtol"):
        settings[name] = check_number(settings[name], name, low=0.0, low_open=True)
    k = class_count(model, x)
    if y is None:
        y = model.predict(x)
    y = check_labels(y, len(x), k)
    if target is not None:
        targets = np.asarray(target)
        if targets.ndim == 0:
            targets = np.full(len(x), targets)
        targets = check_labels(targets, len(x), k, name="target")
    if candidates is not None:
        if isinstance(candidates, bool) or not isinstance(candidates, (int, np.integer)):
            raise TypeError(f"candidates must be None or an integer, got "
                            f"{type(candidates).__name__} {candidates!r} instead.")
        if not 1 <= candidates < k:
            raise ValueError(f"candidates must be None or an integer in [1, {k - 1}], got "
                             f"{candidates!r} instead.")
        candidates = int(candidates)
    if batch is not None:
        batch = check_positive_int(batch, "batch")
    processes = check_positive_int(processes, "processes", high=MAX_PROCESSES)
    if processes > 1 and batch is None:
        raise ValueError(f"processes shares a batched search among processes: it needs batch, "
                         f"got processes={processes} with batch=None instead.")
    require_scipy("minimal_perturbation")      # after the arguments: bad input is said first
    proba = model.predict_proba(x) if target is None else None
    mode = ("untargeted: every other class, smallest kept" if not candidates else
            f"untargeted: the {candidates} highest-scoring wrong classes, smallest kept")
    if batch is not None and not reverse_communication_works():
        warnings.warn("minimal_perturbation: this SciPy's L-BFGS-B reverse-communication "
                      "interface is not the one advref drives (SciPy >= 1.15), so batch= "
                      "is ignored and the examples are solved one at a time.",
                      RuntimeWarning, stacklevel=2)
        batch = None
    with scipy_blas_single_thread():
        if batch is not None:
            tasks = [partial(search_many, model, x[s], y[s],
                             None if target is None else targets[s],
                             None if proba is None else proba[s], clip, candidates, settings,
                             mode, batch) for s in shares(len(x), min(processes, len(x)))]
            return tasks[0]() if len(tasks) == 1 else run_in_processes(tasks)
        return [search_one(model, x[i], y[i], None if target is None else int(targets[i]),
                           clip, candidates, None if proba is None else proba[i], settings,
                           mode) for i in range(len(x))]


def linear_minimal_perturbation(w: np.ndarray, b: float | np.ndarray, x: np.ndarray,
                                norm: float = 2) -> tuple[np.ndarray, np.ndarray]:
    """Closed-form smallest r moving x onto the hyperplane w.x + b = 0 (no box).

    L2:    r = -(w.x + b) w / ||w||_2^2           ||r||_2   = |w.x + b| / ||w||_2
    L_inf: r = -(w.x + b) sign(w) / ||w||_1       ||r||_inf = |w.x + b| / ||w||_1
    L1:    the whole change on argmax |w_j|        ||r||_1   = |w.x + b| / ||w||_inf
    Returns (r (n, d), size (n,)).
    """
    x = check_batch(np.asarray(x, dtype=np.float64) if not isinstance(x, np.ndarray) else x)
    w = np.asarray(w, dtype=x.dtype).reshape(-1)
    norm = check_norm(norm)
    if w.shape[0] != x.shape[1] or not np.any(w):
        raise ValueError(f"w must be a nonzero vector of length {x.shape[1]}, got shape "
                         f"{w.shape} instead.")
    score = x @ w + b
    if norm == 2:
        direction, dual = w / (w @ w), np.sqrt(w @ w)
    elif norm == np.inf:
        direction, dual = np.sign(w) / np.abs(w).sum(), np.abs(w).sum()
    else:
        j = int(np.argmax(np.abs(w)))
        direction = np.zeros_like(w)
        direction[j] = 1 / w[j]
        dual = np.abs(w[j])
    return -score[:, None] * direction[None, :], np.abs(score) / dual
