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

Each solve is advref.attacks.lbfgsb_steps.Solve. SciPy's reverse-communication
routine is private; where `reverse_communication_works()` finds it missing or
different, minimal_perturbation warns and solves one at a time.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

import numpy as np

from advref.attacks.lbfgsb_steps import Solve, reverse_communication_works
from advref.attacks.minimal_search import search_over_c, smallest_of, targets_to_try

if TYPE_CHECKING:
    from typing import Any

    from advref.attacks.minimal_search import MinimalResult
    from advref.models.protocol import Box, Differentiable

__all__ = ["Solve", "reverse_communication_works", "search_many"]


class _Search:
    """One (example, target) search in flight, its slot and its current solve."""

    __slots__ = ("example", "position", "target", "generator", "slot", "c", "solve")
    c: float            # the penalty and the solve of the current request:
    solve: Solve        # search_many's begin() sets both before any use

    def __init__(self, example: int, position: int, target: int, generator: Any,
                 slot: int) -> None:
        self.example, self.position, self.target = example, position, target
        self.generator, self.slot = generator, slot


def penalised(c: np.ndarray, r: np.ndarray, loss: np.ndarray, grad: np.ndarray
              ) -> tuple[list[float], np.ndarray]:
    """The one-example objective for each row, as minimal_search._solve computes it:
    f = (c r) . r + J (the dot product is BLAS's ddot for one row, and matmul of
    stacked (1, n) @ (n, 1) pairs calls the same ddot for each) and g = 2 c r +
    grad J, elementwise."""
    cr = c[:, None] * r
    f = np.matmul(cr[:, None, :], r[:, :, None])[:, 0, 0] + loss.astype(np.float64)
    g = np.multiply((2 * c)[:, None], r)
    g += grad                  # grad cast to float64 first, as grad.astype(float64)
    return f.tolist(), g


def search_many(model: Differentiable, x: np.ndarray, y: np.ndarray, targets: np.ndarray | None,
                proba: np.ndarray | None, clip: Box, candidates: int | None, settings: dict,
                mode: str, block: int) -> list[MinimalResult]:
    """MinimalResults for the rows of x, as minimal_perturbation's one-example mode
    gives them, with at most `block` searches (one solve each) in flight.

    targets: (n,) array for the targeted search, None for the untargeted one (the
    classes of minimal_search.targets_to_try, from proba, each its own search).
    Each search in flight owns a slot: its row of `points` (the solve's iterate,
    which setulb updates in place) and its entries of `example`, `target`, `c`,
    so a round gathers its rows with a few indexing calls.
    """
    x64 = x.astype(np.float64)
    if targets is not None:
        plan = [[int(t)] for t in targets]
    else:
        assert proba is not None           # untargeted: minimal_perturbation computed it
        plan = [targets_to_try(y[i], proba[i], candidates) for i in range(len(x))]
    queue = deque((i, k, t) for i, ts in enumerate(plan) for k, t in enumerate(ts))
    found: list[list[Any]] = [[None] * len(ts) for ts in plan]
    width = min(block, len(queue))
    points = np.zeros((width, x.shape[1]))
    example = np.zeros(width, np.intp)
    target = np.zeros(width, np.intp)
    c = np.zeros(width)
    free = list(range(width - 1, -1, -1))

    def begin(search, request):
        search.c, r0 = request
        c[search.slot] = search.c
        low, high = (None, None) if clip is None else (clip[0] - x64[search.example],
                                                       clip[1] - x64[search.example])
        search.solve = Solve(r0, low, high, maxiter=settings["maxiter"],
                             ftol=settings["ftol"], gtol=settings["gtol"],
                             out=points[search.slot])

    waiting: list[_Search] = []
    while waiting or queue:
        while queue and free:
            search = _Search(*queue.popleft(), None, free.pop())
            example[search.slot], target[search.slot] = search.example, search.target
            search.generator = search_over_c(x[search.example], search.target, settings)
            begin(search, next(search.generator))
            waiting.append(search)
        slots = np.array([s.slot for s in waiting])
        r = points[slots]                  # a copy: each solve's evaluated point
        # x + r.astype(x.dtype), the cast inside the addition: one array less
        evaluated = np.add(x[example[slots]], r, dtype=x.dtype, casting="same_kind")
        loss, grad = model.loss_grad(evaluated, target[slots])
        f, g = penalised(c[slots], r, loss, grad)
        still: list[_Search] = []
        finished: list[_Search] = []
        for search, fj, gj, rj in zip(waiting, f, g, r, strict=True):
            (still if search.solve.give(fj, gj, rj) else finished).append(search)
        waiting = still
        if finished:
            done = np.array([s.slot for s in finished])
            x_adv = x[example[done]] + points[done].astype(x.dtype)
            if clip is not None:
                np.clip(x_adv, clip[0], clip[1], out=x_adv)
            reached = model.predict(x_adv).tolist()
        for j, search in enumerate(finished):
            try:
                begin(search, search.generator.send((x_adv[j].copy(), reached[j],
                                                     search.solve.nit)))
                waiting.append(search)
            except StopIteration as stop:
                found[search.example][search.position] = stop.value
                free.append(search.slot)
    if targets is not None:
        return [tries[0] for tries in found]
    return [smallest_of(tries, settings, mode) for tries in found]
