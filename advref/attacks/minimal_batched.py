"""Many minimal-perturbation searches at once, with pooled model evaluations.

The one-example mode (advref.attacks.minimal_search) is the definition: for each
(example, target) pair, a search over c, and for each c one L-BFGS-B solve by
scipy.optimize.minimize. Almost all of its time goes to evaluating one example's
loss and input gradient at a time, far below what a batched product can do.

This driver runs every search of a block side by side and changes nothing in
what each one computes:
  - each search is the same generator `minimal_search.search_over_c` (same c steps, same
    warm starts, same bookkeeping);
  - each solve is SciPy's own L-BFGS-B code, driven step for step as
    scipy.optimize.minimize drives it (its reverse-communication loop: the
    solver returns whenever it wants f and g at a new point);
  - every round, all solves that are waiting for f and g are evaluated in ONE
    call of model.loss_grad on the stacked points; each row is that problem's
    own loss and input gradient (models never mix rows), so

        f_i = c_i * r_i . r_i + J(x_i + r_i, t_i),   g_i = 2 c_i r_i + grad_x J

    exactly as in the one-example objective;
  - the solves that finish in a round are classified in one model.predict call
    (the one-example mode classifies each alone).

With a model whose batched rows equal its one-row evaluations bit for bit, the
results are identical to the one-example mode (tested). Real models evaluate a
batch with other BLAS kernels than a single row, so their values differ in the
last bits; in non-convex problems the paths may then part, and the contract is
the one of issue 17: the same success flags, and each size within 1% of the
one-example size or smaller (tested on softmax and maxout).

SciPy's reverse-communication routine is private (scipy.optimize._lbfgsb.setulb,
the interface of SciPy >= 1.15). `reverse_communication_works()` checks it once
against scipy.optimize.minimize, bit for bit, on a small bounded problem; where
it is missing or differs, minimal_perturbation warns and solves one at a time.
"""

from __future__ import annotations

from collections import deque
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from advref.attacks.minimal_search import search_over_c, smallest_of, targets_to_try

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from advref.attacks.minimal_search import MinimalResult
    from advref.models.protocol import Box, Differentiable

MAXCOR, MAXLS, MAXFUN = 10, 20, 15000        # scipy.optimize.minimize's L-BFGS-B defaults
FG, NEW_X, STOP = 3, 1, 5                     # setulb task codes (1.15+)


def setulb_routine() -> Callable[..., Any]:
    """SciPy's private L-BFGS-B step routine (the one minimize drives)."""
    from scipy.optimize import _lbfgsb

    return _lbfgsb.setulb


class Solve:
    """One bounded L-BFGS-B problem in SciPy's reverse-communication form.

    `point()` is where f and g are wanted next; `give(f, g)` hands them over and
    runs the solver until it wants another point (True) or has finished (False).
    The loop, the iteration count and the stopping rules are those of
    scipy.optimize._lbfgsb_py._minimize_lbfgsb, including its reuse of the last
    evaluation when asked again at the same point.
    """

    def __init__(self, r0: np.ndarray, low: np.ndarray, high: np.ndarray, *, maxiter: int,
                 ftol: float, gtol: float) -> None:
        self._setulb = setulb_routine()
        n = len(r0)
        bounded = low is not None
        self.nbd = np.full(n, 2 if bounded else 0, np.int32)
        self.x = np.clip(r0, low, high) if bounded else np.array(r0, dtype=np.float64)
        self.x = np.asarray(self.x, dtype=np.float64).copy()
        self.factr, self.pgtol, self.maxiter = ftol / np.finfo(float).eps, gtol, maxiter
        m = MAXCOR
        self.wa = np.zeros(2 * m * n + 5 * n + 11 * m * m + 8 * m, np.float64)
        self.iwa = np.zeros(3 * n, np.int32)
        self.task = np.zeros(2, np.int32)
        self.ln_task = np.zeros(2, np.int32)
        self.lsave = np.zeros(4, np.int32)
        self.isave = np.zeros(44, np.int32)
        self.dsave = np.zeros(29, np.float64)
        self.lows = low if bounded else np.zeros(n)
        self.highs = high if bounded else np.zeros(n)
        # what setulb sees before any F, G
        self.f: Any = np.array(0.0)
        self.g: np.ndarray = np.zeros(n)
        # (x, f, g) of the latest evaluation
        self.last: tuple[np.ndarray, float, np.ndarray] | None = None
        self.nfev = self.nit = 0

    def point(self) -> np.ndarray:
        return self.x

    def give(self, f: float, g: np.ndarray) -> bool:
        """The objective at point(): run on to the next request; False when done.
        The first evaluation is minimize's evaluation at x0, made before the loop."""
        if self.last is not None:
            self.f, self.g = f, g
        self.last = (self.x.copy(), f, g)
        self.nfev += 1
        return self._run()

    def _run(self):
        while True:
            self.g = self.g.astype(np.float64)
            self._setulb(MAXCOR, self.x, self.lows, self.highs, self.nbd, self.f, self.g,
                         self.factr, self.pgtol, self.wa, self.iwa, self.task, self.lsave,
                         self.isave, self.dsave, MAXLS, self.ln_task)
            if self.task[0] == FG:
                if (self.x == self.last[0]).all():    # np.array_equal: minimize reuses it
                    self.f, self.g = self.last[1], self.last[2]
                    continue
                return True
            if self.task[0] == NEW_X:
                self.nit += 1
                if self.nit >= self.maxiter:
                    self.task[:] = STOP, 504
                elif self.nfev > MAXFUN:
                    self.task[:] = STOP, 502
            else:
                return False


@lru_cache(maxsize=1)
def reverse_communication_works() -> bool:
    """True when Solve reproduces scipy.optimize.minimize bit for bit here."""
    from scipy.optimize import minimize

    rng = np.random.default_rng(0)
    a = rng.normal(size=(12, 12))
    h, b = a @ a.T + np.eye(12), rng.normal(size=12)
    low, high = np.full(12, -0.3), np.full(12, 0.4)

    def objective(r):                        # a bounded quadratic with an active box
        return 0.5 * r @ h @ r + b @ r + np.sin(r).sum(), h @ r + b + np.cos(r)

    want = minimize(objective, np.zeros(12), jac=True, method="L-BFGS-B",
                    bounds=list(zip(low, high, strict=True)),
                    options={"maxiter": 50, "ftol": 1e-12, "gtol": 1e-9})
    try:
        solve = Solve(np.zeros(12), low, high, maxiter=50, ftol=1e-12, gtol=1e-9)
        while solve.give(*objective(solve.point())):
            pass
    except (ImportError, AttributeError, TypeError, ValueError):
        return False
    return bool(np.array_equal(solve.x, want.x) and solve.nit == want.nit
                and solve.nfev == want.nfev)


class _Search:
    """One (example, target) search in flight and its current solve."""

    def __init__(self, example, position, target, generator):
        self.example, self.position, self.target = example, position, target
        self.generator, self.c, self.solve = generator, None, None


def search_many(model: Differentiable, x: np.ndarray, y: np.ndarray, targets: np.ndarray | None,
                proba: np.ndarray | None, clip: Box, candidates: int | None, settings: dict,
                mode: str, block: int) -> list[MinimalResult]:
    """MinimalResults for the rows of x, as minimal_perturbation's one-example mode
    gives them, with at most `block` searches (one solve each) in flight.

    targets: (n,) array for the targeted search, None for the untargeted one (the
    classes of minimal_search.targets_to_try, from proba, each its own search).
    """
    x64 = x.astype(np.float64)
    if targets is not None:
        plan = [[int(t)] for t in targets]
    else:
        assert proba is not None           # untargeted: minimal_perturbation computed it
        plan = [targets_to_try(y[i], proba[i], candidates) for i in range(len(x))]
    queue = deque((i, k, t) for i, ts in enumerate(plan) for k, t in enumerate(ts))
    found: list[list[Any]] = [[None] * len(ts) for ts in plan]

    def begin(search, request):
        search.c, r0 = request
        low, high = (None, None) if clip is None else (clip[0] - x64[search.example],
                                                       clip[1] - x64[search.example])
        search.solve = Solve(r0, low, high, maxiter=settings["maxiter"],
                             ftol=settings["ftol"], gtol=settings["gtol"])

    def evaluate(searches):
        """One batched loss_grad for every waiting solve: the one-example objective,
        f = c r.r + J and g = 2 c r + grad J, elementwise as it computes them."""
        r = np.stack([s.solve.point() for s in searches])
        c = np.array([s.c for s in searches])
        loss, grad = model.loss_grad(x[[s.example for s in searches]] + r.astype(x.dtype),
                                     np.array([s.target for s in searches]))
        g = (2 * c)[:, None] * r + grad.astype(np.float64)
        return [(ci * ri @ ri + float(li), gi)
                for ci, ri, li, gi in zip(c, r, loss, g, strict=True)]

    in_flight, waiting = 0, []         # type: int, list[_Search]
    while waiting or queue:
        while queue and in_flight < block:
            search = _Search(*queue.popleft(), None)
            search.generator = search_over_c(x[search.example], search.target, settings)
            begin(search, next(search.generator))
            waiting.append(search)
            in_flight += 1
        values = evaluate(waiting)
        still: list[_Search] = []
        finished: list[_Search] = []
        for search, (f, g) in zip(waiting, values, strict=True):
            (still if search.solve.give(f, g) else finished).append(search)
        waiting = still
        if finished:
            x_adv = x[[s.example for s in finished]] + np.stack(
                [s.solve.x for s in finished]).astype(x.dtype)
            if clip is not None:
                np.clip(x_adv, clip[0], clip[1], out=x_adv)
            reached = model.predict(x_adv)
        for j, search in enumerate(finished):
            try:
                begin(search, search.generator.send((x_adv[j].copy(), int(reached[j]),
                                                     search.solve.nit)))
                waiting.append(search)
            except StopIteration as done:
                found[search.example][search.position] = done.value
                in_flight -= 1
    if targets is not None:
        return [tries[0] for tries in found]
    return [smallest_of(tries, settings, mode) for tries in found]
