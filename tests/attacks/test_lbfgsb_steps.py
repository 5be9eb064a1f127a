"""advref.attacks.lbfgsb_steps against scipy.optimize.minimize itself, and the
batched objective against the one-example formula, bit for bit."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("scipy.optimize", reason="these tests drive SciPy's L-BFGS-B")

import scipy  # noqa: E402
import scipy.optimize._lbfgsb as compiled  # noqa: E402
from scipy.optimize import minimize  # noqa: E402

import advref.attacks.lbfgsb_steps as steps  # noqa: E402
from advref.attacks.lbfgsb_steps import FG, STOP, Solve, reverse_communication_works  # noqa: E402
from advref.attacks.minimal_batched import penalised  # noqa: E402

# The tests that run setulb (or stand in for it) need the interface Solve drives
# (SciPy >= 1.15); the declared floor's SciPy has another, and there
# minimal_perturbation solves one at a time (tests/attacks/test_minimal_batched.py).
driven = pytest.mark.skipif(
    not reverse_communication_works(),
    reason=f"SciPy {scipy.__version__}'s private L-BFGS-B interface is not the one "
           "Solve drives (SciPy >= 1.15)")


class Scribbler:
    """A stand-in for setulb that asks for f and g at the same point three times
    and writes over its g argument in between (as setulb does when it restores the
    previous gradient), recording the f and g each call was handed."""

    def __init__(self):
        self.seen = []

    def __call__(self, m, x, low, high, nbd, f, g, *rest):
        task = rest[4]
        self.seen.append((float(f), g.copy()))
        g[:] = 99.0
        task[:] = (FG, 0) if len(self.seen) < 4 else (STOP, 0)


def objective(r):
    return float(r @ r + r.sum()), 2 * r + 1


@driven
def test_setulb_is_handed_what_minimize_hands_it(monkeypatch):
    """minimize reuses its evaluation at an unchanged point and hands setulb a
    fresh copy of it each time: setulb's writes never reach the next call."""
    r0 = np.array([0.25, -0.5, 0.125])
    by_scipy = Scribbler()
    monkeypatch.setattr(compiled, "setulb", by_scipy)
    minimize(objective, r0, jac=True, method="L-BFGS-B", bounds=[(-1, 1)] * 3)
    by_solve = Scribbler()
    monkeypatch.setattr(steps, "setulb_routine", lambda: by_solve)
    solve = Solve(r0, -np.ones(3), np.ones(3), maxiter=15, ftol=1e-9, gtol=1e-5)
    assert solve.give(*objective(solve.point())) is False
    assert len(by_solve.seen) == len(by_scipy.seen) == 4
    for (f_a, g_a), (f_b, g_b) in zip(by_scipy.seen, by_solve.seen, strict=True):
        assert f_a == f_b and np.array_equal(g_a, g_b)
    assert by_solve.seen[1][0] == objective(r0)[0]           # the evaluation, reused
    assert np.array_equal(by_solve.seen[3][1], objective(r0)[1])
    assert solve.nfev == 1


@driven
def test_a_solve_keeps_its_iterate_in_the_row_it_is_given():
    rng = np.random.default_rng(3)
    a = rng.normal(size=(6, 6))
    h, b = a @ a.T + np.eye(6), rng.normal(size=6)

    def quadratic(r):
        return 0.5 * r @ h @ r + b @ r, h @ r + b

    rows = np.full((3, 6), 7.0)
    low, high = np.full(6, -0.2), np.full(6, 0.3)
    alone = Solve(np.zeros(6), low, high, maxiter=50, ftol=1e-12, gtol=1e-9)
    in_row = Solve(np.zeros(6), low, high, maxiter=50, ftol=1e-12, gtol=1e-9, out=rows[1])
    for solve in (alone, in_row):
        while solve.give(*quadratic(solve.point())):
            pass
    assert in_row.x is not alone.x and np.shares_memory(in_row.x, rows)
    assert np.array_equal(rows[1], alone.x)
    assert (rows[[0, 2]] == 7.0).all()                      # the other rows untouched


values = st.sampled_from([0.0, -0.0, 1.5, -2.25, np.nan, np.inf])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(values, values), min_size=1, max_size=6),
       st.integers(0, 5), st.lists(st.tuples(values, values), min_size=1, max_size=6))
def test_the_same_point_test_is_array_equal(pairs, moved, later):
    """Solve._at(at) answers np.array_equal(x, at): -0.0 equals 0.0, NaN equals
    nothing; whichever coordinate it remembers from an earlier comparison."""
    solve = Solve(np.zeros(len(pairs)), None, None, maxiter=1, ftol=1e-9, gtol=1e-5)
    for batch in (pairs, later[:len(pairs)] + pairs[len(later):]):
        solve.moved = min(moved, len(pairs) - 1)
        solve.x[:] = [p[0] for p in batch]
        at = np.array([p[1] for p in batch])
        assert solve._at(at) == np.array_equal(solve.x, at)


def test_the_same_point_test_remembers_where_points_differed():
    solve = Solve(np.zeros(5), None, None, maxiter=1, ftol=1e-9, gtol=1e-5)
    solve.x[:] = [0.0, 0.0, 1.0, 0.0, 2.0]
    assert solve._at(np.array([0.0, 0.0, 1.0, 0.0, 2.5])) is False
    assert solve.moved == 4
    assert solve._at(np.array([0.0, -0.0, 1.0, 0.0, 2.0])) is True


@pytest.mark.parametrize("n", [1, 7, 784, 1000])
def test_the_batched_objective_is_the_one_example_formula_bit_for_bit(n):
    """f = c r.r + J and g = 2 c r + grad J as minimal_search._solve computes them,
    one row at a time: c * r @ r + float(loss), 2 * c * r + grad.astype(float64)."""
    rng = np.random.default_rng(n)
    r = rng.normal(size=(9, n)) * rng.uniform(1e-3, 1e3, (9, 1))
    c = 10.0 ** rng.uniform(-6, 6, 9)
    loss = rng.uniform(0, 20, 9).astype(np.float32)
    grad = rng.normal(size=(9, n)).astype(np.float32)
    f, g = penalised(c, r, loss, grad)
    for i in range(9):
        ci = float(c[i])
        assert f[i] == ci * r[i] @ r[i] + float(loss[i])
        assert np.array_equal(g[i], 2 * ci * r[i] + grad[i].astype(np.float64))
    assert g.dtype == np.float64 and isinstance(f[0], float)


class Spy:
    """setulb itself, with the arguments of its first call recorded."""

    def __init__(self):
        self.first = None

    def __call__(self, *args):
        if self.first is None:
            self.first = [(a.shape, a.dtype) if isinstance(a, np.ndarray) else (type(a), a)
                          for a in args]
        return compiled_setulb(*args)


compiled_setulb = compiled.setulb


@driven
@pytest.mark.parametrize("n", [1, 7])
def test_the_work_areas_are_the_ones_minimize_hands_setulb(monkeypatch, n):
    """Every array setulb gets (its sizes fix the memory it may write) and every
    scalar setting, as minimize's own driver passes them."""
    r0, low, high = np.full(n, 0.2), np.full(n, -1.0), np.full(n, 1.0)
    by_scipy = Spy()
    monkeypatch.setattr(compiled, "setulb", by_scipy)
    minimize(objective, r0, jac=True, method="L-BFGS-B", bounds=list(zip(low, high, strict=True)),
             options={"ftol": 1e-9, "gtol": 1e-5})
    by_solve = Spy()
    monkeypatch.setattr(steps, "setulb_routine", lambda: by_solve)
    solve = Solve(r0, low, high, maxiter=15000, ftol=1e-9, gtol=1e-5)
    while solve.give(*objective(solve.point())):
        pass
    assert by_solve.first == by_scipy.first


@driven
@pytest.mark.parametrize("r0", [[0.0], [0.7], [-3.0], [5.0]])
def test_a_one_dimensional_problem_is_solved_as_minimize_solves_it(r0):
    """n = 1, from inside and from outside the box (minimize clips x0 first)."""
    def bumpy(r):
        return float(np.sin(3 * r[0]) + r[0] ** 2), np.array([3 * np.cos(3 * r[0]) + 2 * r[0]])

    want = minimize(bumpy, np.array(r0), jac=True, method="L-BFGS-B", bounds=[(-1, 2)],
                    options={"ftol": 1e-12, "gtol": 1e-9})
    solve = Solve(np.array(r0), np.array([-1.0]), np.array([2.0]), maxiter=15000,
                  ftol=1e-12, gtol=1e-9)
    while solve.give(*bumpy(solve.point())):
        pass
    assert np.array_equal(solve.x, want.x) and (solve.nit, solve.nfev) == (want.nit, want.nfev)
