"""SciPy's L-BFGS-B, driven one step at a time (reverse communication).

scipy.optimize.minimize(method="L-BFGS-B") calls the objective itself. Its
compiled routine `setulb` does not: it returns whenever it wants f and g at a new
point (task FG), or to report a finished iteration (task NEW_X), and minimize's
Python loop answers. `Solve` is that loop, statement for statement, with the
objective handed in from outside (`give`), so that a driver can evaluate many
problems' objectives in one batched call (advref.attacks.minimal_batched).

The routine is private (scipy.optimize._lbfgsb.setulb, the interface of SciPy >=
1.15). `reverse_communication_works()` checks it once against
scipy.optimize.minimize, bit for bit, on a small bounded problem.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

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

    out: an (n,) float64 row to hold the iterate (setulb updates it in place), so
    that a driver can keep many solves' points in one array.
    """

    def __init__(self, r0: np.ndarray, low: np.ndarray | None, high: np.ndarray | None, *,
                 maxiter: int, ftol: float, gtol: float, out: np.ndarray | None = None
                 ) -> None:
        self._setulb = setulb_routine()
        n = len(r0)
        bounded = low is not None
        self.nbd = np.full(n, 2 if bounded else 0, np.int32)
        self.x = np.empty(n) if out is None else out
        if bounded:
            np.clip(r0, low, high, out=self.x)
        else:
            self.x[:] = r0
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
        # what setulb sees before any F, G. minimize hands setulb a float64 copy of
        # the latest gradient on every call; setulb may write into it (it restores
        # the previous gradient after a failed line search), so self.g is setulb's
        # own buffer and the evaluations themselves are never touched.
        self.f: Any = np.array(0.0)
        self.g: np.ndarray = np.zeros(n)
        # (x, f, g) of the latest evaluation
        self.last: tuple[np.ndarray, float, np.ndarray] | None = None
        self.nfev = self.nit = 0
        self.moved = 0          # a coordinate in which the last two points differed

    def point(self) -> np.ndarray:
        return self.x

    def give(self, f: float, g: np.ndarray, at: np.ndarray | None = None) -> bool:
        """The objective at point(): run on to the next request; False when done.
        The first evaluation is minimize's evaluation at x0, made before the loop.
        at: a copy of point() that the caller keeps unchanged (saves a copy)."""
        if self.last is not None:
            self.f = f
            self.g[...] = g
        self.last = (self.x.copy() if at is None else at, f, g)
        self.nfev += 1
        return self._run()

    def _run(self) -> bool:
        setulb, task = self._setulb, self.task
        while True:
            setulb(MAXCOR, self.x, self.lows, self.highs, self.nbd, self.f, self.g,
                   self.factr, self.pgtol, self.wa, self.iwa, task, self.lsave,
                   self.isave, self.dsave, MAXLS, self.ln_task)
            if task[0] == FG:
                at, f, g = self.last       # type: ignore[misc]
                if self._at(at):            # minimize reuses its latest evaluation
                    self.f = f
                    self.g[...] = g
                    continue
                return True
            if task[0] == NEW_X:
                self.nit += 1
                if self.nit >= self.maxiter:
                    task[:] = STOP, 504
                elif self.nfev > MAXFUN:
                    task[:] = STOP, 502
            else:
                return False

    def _at(self, at: np.ndarray) -> bool:
        """np.array_equal(self.x, at). One coordinate that differs settles it, and
        the one that differed last time usually differs again: a scalar comparison
        instead of a pass over x (the full pass runs when it does not)."""
        k, x = self.moved, self.x
        if x[k] != at[k]:
            return False
        differ = x != at
        if differ.any():
            self.moved = int(differ.argmax())
            return False
        return True


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
