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
one thread (advref.blas_threads: its idle workers otherwise spin against
NumPy's, about 10x slower on two cores).

For a binary linear model the answer is known in closed form
(`linear_minimal_perturbation`): the distance to the hyperplane w.x + b = 0 is
|w.x + b| / ||w||_2 in L2 and |w.x + b| / ||w||_1 in L_inf.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

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
)
from advref.attacks._blas_threads import scipy_blas_single_thread

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

    def summary(self):
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


def _search(x, target, settings):
    """The search over c for one (example, target), as a generator: it yields each
    (c, r0) to solve and receives (x_adv, reached, iterations) back; it returns the
    MinimalResult. One driver solves one example at a time (the definition), the
    batched driver (advref.attacks.minimal_batched) solves many in lockstep."""
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


def _targeted_one(model, x, target, bounds, settings):
    search = _search(x, target, settings)
    request = next(search)
    while True:
        c, r0 = request
        try:
            request = search.send(_solve(model, x, target, c, bounds, r0, settings))
        except StopIteration as done:
            return done.value


def minimal_perturbation(model, x, *, target=None, y=None, clip=(0.0, 1.0), candidates=None,
                         **options):
    """A MinimalResult per row of x.

    target: int or (n,) array of target classes; None means untargeted: every class
    other than y (or the model's prediction when y is None), or the `candidates`
    highest-scoring ones, is tried and the smallest success kept. options override
    DEFAULTS (ftol/gtol None: by dtype, see TOLERANCES).

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
    proba = model.predict_proba(x) if target is None else None
    mode = ("untargeted: every other class, smallest kept" if not candidates else
            f"untargeted: the {candidates} highest-scoring wrong classes, smallest kept")
    with scipy_blas_single_thread():
        return [search_one(model, x[i], y[i], None if target is None else int(targets[i]),
                           clip, candidates, None if proba is None else proba[i], settings,
                           mode) for i in range(len(x))]


def search_one(model, x, y, target, clip, candidates, proba, settings, mode):
    """One example: the targeted search, or the untargeted one over classes != y."""
    bounds = None if clip is None else list(zip(clip[0] - x.astype(np.float64),
                                                clip[1] - x.astype(np.float64), strict=True))
    if target is not None:
        return _targeted_one(model, x, target, bounds, settings)
    classes = [t for t in np.argsort(-proba, kind="stable") if t != y]
    classes = classes[:candidates] if candidates else classes
    tries = [_targeted_one(model, x, int(t), bounds, settings) for t in classes]
    wins = [r for r in tries if r.success]
    best = min(wins, key=lambda r: r.l2) if wins else tries[0]
    best.iterations = sum(r.iterations for r in tries)
    best.settings = {**settings, "mode": mode}
    return best


def linear_minimal_perturbation(w, b, x, norm=2):
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
