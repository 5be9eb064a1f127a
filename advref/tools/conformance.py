"""Checking an implementation against a conformance vector set (advref.tools.vectors).

An implementation is checked through a `Subject`: an object with any of
    loss_grad(kind, config, weights, x, y) -> (losses, d_x)
    param_gradients(kind, config, weights, x, y) -> {param: d mean loss / d param}
    fgsm(kind, config, weights, x, y, eps, norm, targeted, clip) -> x_adv
    iterative_fgsm(kind, config, weights, x, y, eps, steps, step_size, targeted,
                   clip) -> x_adv
    random_step_fgsm(kind, config, weights, x, y, eps, alpha, signs, targeted,
                     clip) -> x_adv
    vat(kind, config, weights, x, r) -> (kl (n,), {param: d mean KL / d param})
    adversarial_logistic_loss(weights, x, y, eps) -> mean loss
    minimal_distance(weights, x, norm) -> (n,)
(norm is "inf", "2" or "1"; clip None or (0.0, 1.0)). advref's own subject is
advref.tools.conformance:ADVREF (advref.tools.advref_subject).

Every quantity of every case gets one row, with a status:
    ok        every element within the tolerance
    FAIL      an element outside it (the row names the worst one: its index, what
              came and what was expected), a wrong shape, or a non-finite value
    ERROR     the method raised (its type and message are recorded), returned
              something that is not an array of numbers, or wrote into its inputs
    SKIPPED   the subject has no such method, or it raised NotImplementedError
              (a model kind or norm it lacks), with that reason
The subject gets copies of its inputs, so a method that writes into x is caught
and no other quantity sees the change. A method's exception stops nothing else.

The tolerance is relative to each quantity's own scale S:
    |got - expected| <= atol * S + rtol * |expected|
S is the largest |reference| of each example's row for the per-example quantities
(losses, input gradients, attacks, KL, distances), and of the whole array for the
gradients of a mean (parameter gradients, the adversarial logistic loss). So a
zero gradient fails where the reference is 1e-304, and an example's 1e-56
gradient is not judged on the scale of its neighbour's 1e-20. TOLERANCES holds the
defaults for a subject computing in float64 and in float32.
"""

from __future__ import annotations

import copy
import importlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from advref.tools.advref_subject import ADVREF, AdvrefSubject
from advref.tools.conformance_calls import calls
from advref.tools.vector_files import read_case, read_manifest
from advref.tools.vectors import FORMAT, TOLERANCES, VERSION

__all__ = ["ADVREF", "AdvrefSubject", "Row", "TOLERANCES", "check", "compare",
           "load_subject", "tolerance"]

@dataclass(frozen=True)
class Row:
    case: str
    quantity: str
    status: str                 # ok, FAIL, ERROR or SKIPPED
    worst: float | None = None  # the largest |got - expected| / S (None: not compared)
    detail: str = ""

    @property
    def ok(self):
        return self.status == "ok"


def tolerance(dtype="float64", rtol=None, atol=None) -> dict:
    if dtype not in TOLERANCES:
        raise ValueError(f"--dtype must be one of {', '.join(TOLERANCES)}, got {dtype!r}.")
    tol = dict(TOLERANCES[dtype])
    for name, value in (("rtol", rtol), ("atol", atol)):
        if value is not None:
            if not (isinstance(value, (int, float)) and 0 <= value < 1):
                raise ValueError(f"--{name} must be a number in [0, 1), got {value!r}.")
            tol[name] = float(value)
    return tol


def load_subject(spec):
    """The object named by "module:attribute" (or a module with the functions). The
    current folder is searched first, as `python -m` does."""
    if not isinstance(spec, str) or not spec.partition(":")[0].strip():
        raise ValueError(f"--impl must name a module, as module or module:object, got "
                         f"{spec!r}.")
    module, _, attribute = spec.partition(":")
    here = os.getcwd()
    added = here not in sys.path
    if added:
        sys.path.insert(0, here)
    try:
        obj = importlib.import_module(module)
    except ImportError as err:
        raise ValueError(f"--impl names a module that cannot be imported: {module!r} "
                         f"({err})") from None
    except Exception as err:  # the subject's own code failed while it was imported
        raise ValueError(f"--impl: the subject's module {module!r} raised "
                         f"{type(err).__name__} on import: {err}") from None
    finally:
        if added:
            sys.path.remove(here)
    if attribute:
        if not hasattr(obj, attribute):
            raise ValueError(f"--impl: module {module} has no {attribute!r}.")
        obj = getattr(obj, attribute)
    return obj


def per_example(quantity) -> bool:
    """Whether a quantity's rows are the examples' own answers (each its own scale)."""
    return "param_gradient" not in quantity and quantity != "adversarial_logistic_loss"


def _scale(want, rows):
    if rows and want.ndim and want.size:
        return np.abs(want).reshape(len(want), -1).max(axis=1, initial=0.0).reshape(
            (len(want),) + (1,) * (want.ndim - 1))
    return np.abs(want).max(initial=0.0)


def compare(got, want, tol, rows=False):
    """(status, worst, detail) of one answer against its reference; with rows, each
    example's row is scaled by its own largest reference."""
    want = np.asarray(want, np.float64)
    try:
        got = np.asarray(got, np.float64)
    except (TypeError, ValueError) as bad:
        return "ERROR", None, f"the answer is not an array of numbers ({bad})"
    if got.shape != want.shape:
        return "FAIL", None, f"shape {got.shape}, expected {want.shape}"
    scale = _scale(want, rows)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        err = np.where(np.isfinite(got), np.abs(got - want), np.inf)
        excess = err - (tol["atol"] * scale + tol["rtol"] * np.abs(want))
        relative = np.where(scale > 0, err / np.where(scale > 0, scale, 1), err)
    worst_at = np.unravel_index(int(np.argmax(excess)), want.shape) if want.size else ()
    worst = float(relative.max(initial=0.0))
    if not want.size or excess[worst_at] <= 0:
        return "ok", worst, ""
    index = [int(i) for i in worst_at]
    return "FAIL", worst, (f"worst at {index}: got {float(got[worst_at])!r}, expected "
                           f"{float(want[worst_at])!r}")


def _same(a, b):
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, np.ndarray):
        return a.shape == b.shape and np.array_equal(a, b, equal_nan=True)
    return a == b


def _run(subject, case_name, call, data, tol):
    """The rows of the quantities one call of a subject's method answers."""
    method, quantities, named, split = call

    def rows(status, detail):
        return [Row(case_name, q, status, None, detail) for q in quantities]

    if not callable(getattr(subject, method, None)):
        return rows("SKIPPED", f"the subject has no {method}")
    given = copy.deepcopy(named)
    try:
        answer = getattr(subject, method)(*given.values())
    except NotImplementedError as err:
        return rows("SKIPPED", f"{method} raised NotImplementedError: {err}")
    except Exception as err:  # a subject's failure is reported, and the run goes on
        return rows("ERROR", f"{method} raised {type(err).__name__}: "
                             f"{str(err) or '(no message)'}")
    written = [name for name in named if not _same(given[name], named[name])]
    if written:
        return rows("ERROR", f"{method} wrote into its input {', '.join(written)}")
    try:
        answers = split(answer)
    except Exception as err:  # a malformed answer, e.g. a tuple of the wrong length
        return rows("ERROR", f"{method} returned a malformed answer "
                             f"({type(err).__name__}: {err})")
    return [Row(case_name, q, *compare(answers[q], data[f"ref/{q}"], tol, per_example(q)))
            for q in quantities]


def check(folder, subject, tol=None) -> list:
    """A Row for every quantity of every case of the vector set in `folder`."""
    tol = TOLERANCES["float64"] if tol is None else tol
    folder = Path(folder)
    manifest = read_manifest(folder, FORMAT, VERSION)
    out = []
    for case in manifest["cases"]:
        data = read_case(folder, case)      # untrusted input: advref.tools.vector_files
        for call in calls(case, data):
            out += _run(subject, case["name"], call, data, tol)
    return out
