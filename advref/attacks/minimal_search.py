"""Minimal adversarial perturbations by box-constrained L-BFGS (Szegedy et al. 2014).

For one example x and a target class t, for a penalty c > 0:

    r_c = argmin_r  c * ||r||_2^2 + J(x + r, t)    subject to  low <= x + r <= high

solved by scipy.optimize.minimize(method="L-BFGS-B", jac=True) with the bounds
(low - x, high - x); the gradient is 2 c r + grad_x J(x + r, t) from the model's
loss_grad. A large c keeps r small but may not reach t; a small c reaches t with a
larger r. The search over c looks for the LARGEST c whose minimiser is classified
as t (for a convex J this gives the smallest such r):
  1. start at c_init; if r_c reaches t, multiply c by c_factor until it does not,
     else divide c by c_factor until it does (at most max_scale steps each way);
  2. bisect log(c) between the last success and the first failure bisect_steps times.
The smallest successful r found is kept. Untargeted mode runs the targeted search
for every class other than the true (or predicted) one and keeps the smallest;
with `candidates=k` only for the k wrong classes the model scores highest at x
(a cheaper rule, recorded in the settings). L-BFGS-B's tolerances default to the
input's precision (float32 gradients cannot meet float64 tolerances: the line
search then fails after many evaluations). The search runs with SciPy's BLAS at
one thread (advref._blas_threads: its idle workers otherwise spin against
NumPy's, about 10x slower on two cores).

This module is the definition: one example, one target, one solve at a time.
advref.attacks.minimal_batched runs many of these searches side by side.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Generator

    from advref.models.protocol import Box, Differentiable

DEFAULTS = {"c_init": 1.0, "c_factor": 10.0, "max_scale": 12, "bisect_steps": 10,
            "maxiter": 300, "ftol": None, "gtol": None}
TOLERANCES = {np.dtype(np.float32): (1e-6, 1e-5), np.dtype(np.float64): (1e-12, 1e-9)}


@dataclass
class MinimalResult:
    """One example's outcome; `settings` holds everything needed to reproduce it."""

    x_adv: np.ndarray
    success: bool
    l2: float
    linf: float
    c: float
    target: int
    reached: int
    iterations: int
    settings: dict = field(default_factory=dict)

    def summary(self) -> dict:
        d = asdict(self)
        d.pop("x_adv")
        return d


def _solve(model, x, target, c, bounds, r0, settings):
    from scipy.optimize import minimize

    label = np.array([target])
    dtype = x.dtype

    def objective(r):
        loss, grad = model.loss_grad((x + r.astype(dtype))[None], label)
        return c * r @ r + float(loss[0]), 2 * c * r + grad[0].astype(np.float64)

    res = minimize(objective, r0, jac=True, method="L-BFGS-B", bounds=bounds,
                   options={"maxiter": settings["maxiter"], "ftol": settings["ftol"],
                            "gtol": settings["gtol"]})
    r = res.x.astype(dtype)
    x_adv = x + r
    if bounds is not None:
        np.clip(x_adv, settings["clip"][0], settings["clip"][1], out=x_adv)
    return x_adv, int(model.predict(x_adv[None])[0]), int(res.nit)


def search_over_c(x: np.ndarray, target: int, settings: dict
                  ) -> Generator[tuple[float, np.ndarray], tuple[np.ndarray, int, int],
                                 MinimalResult]:
    """The search over c for one (example, target), as a generator: it yields each
    (c, r0) to solve and receives (x_adv, reached, iterations) back; it returns the
    MinimalResult. `targeted_one` solves its requests one at a time (the
    definition); advref.attacks.minimal_batched solves many searches' requests
    side by side."""
    best, iterations = None, 0
    x64 = x.astype(np.float64)
    zero = np.zeros_like(x64)

    def attempt(c, r0):
        nonlocal best, iterations
        x_adv, reached, nit = yield c, r0
        iterations += nit
        ok = reached == target
        r = x_adv.astype(np.float64) - x64
        if ok and (best is None or r @ r < best[1] @ best[1]):
            best = (x_adv, r, c, reached)
        return ok, r

    c = settings["c_init"]
    ok, r = yield from attempt(c, zero)
    lo = hi = None          # lo: largest c that succeeded, hi: smallest c that failed
    for _ in range(settings["max_scale"]):
        if ok:
            lo = c
            c *= settings["c_factor"]
        else:
            hi = c
            c /= settings["c_factor"]
        if lo is not None and hi is not None:
            break
        ok, r = yield from attempt(c, best[1] if best else zero)
    if lo is not None and hi is not None:
        assert best is not None                 # lo is a c that succeeded
        for _ in range(settings["bisect_steps"]):
            mid = np.sqrt(lo * hi)
            ok, _ = yield from attempt(mid, best[1])
            lo, hi = (mid, hi) if ok else (lo, mid)
    if best is None:
        x_adv, reached, _ = yield c, zero
        return MinimalResult(x_adv, False, float("nan"), float("nan"), float(c), target,
                             reached, iterations, settings)
    x_adv, r, c_best, reached = best
    return MinimalResult(x_adv, True, float(np.sqrt(r @ r)), float(np.abs(r).max()),
                         float(c_best), target, reached, iterations, settings)


def targeted_one(model: Differentiable, x: np.ndarray, target: int, bounds: list | None,
                 settings: dict) -> MinimalResult:
    search = search_over_c(x, target, settings)
    request = next(search)
    while True:
        c, r0 = request
        try:
            request = search.send(_solve(model, x, target, c, bounds, r0, settings))
        except StopIteration as done:
            return done.value


def targets_to_try(y: int, proba: np.ndarray, candidates: int | None) -> list[int]:
    """The untargeted search's classes: every class but y, highest score first
    (a stable sort, so ties keep class order), or only the first `candidates`."""
    classes = [int(t) for t in np.argsort(-proba, kind="stable") if t != y]
    return classes[:candidates] if candidates else classes


def smallest_of(tries: list[MinimalResult], settings: dict, mode: str) -> MinimalResult:
    """The untargeted answer from its targeted tries (in targets_to_try's order):
    the smallest success, the first one on a tie, or the first try when none
    succeeded; its iterations are those of all tries."""
    wins = [r for r in tries if r.success]
    best = min(wins, key=lambda r: r.l2) if wins else tries[0]
    best.iterations = sum(r.iterations for r in tries)
    best.settings = {**settings, "mode": mode}
    return best


def search_one(model: Differentiable, x: np.ndarray, y: int, target: int | None, clip: Box,
               candidates: int | None, proba: np.ndarray | None, settings: dict,
               mode: str) -> MinimalResult:
    """One example: the targeted search, or the untargeted one over classes != y."""
    bounds = None if clip is None else list(zip(clip[0] - x.astype(np.float64),
                                                clip[1] - x.astype(np.float64), strict=True))
    if target is not None:
        return targeted_one(model, x, target, bounds, settings)
    assert proba is not None               # untargeted: minimal_perturbation computed it
    tries = [targeted_one(model, x, t, bounds, settings)
             for t in targets_to_try(y, proba, candidates)]
    return smallest_of(tries, settings, mode)
