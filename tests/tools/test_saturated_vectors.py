"""The saturated conformance cases, recomputed with `decimal` from their weights, and
the printed forms (softmax - onehot, sigmoid - onehot, log(1 - e^-q)) failing there."""

from decimal import Decimal, localcontext

import numpy as np
import pytest

from advref.models.outputs import softmax
from advref.tools.conformance import ADVREF, AdvrefSubject, check
from advref.tools.vectors import EPS
from tests.decimal_reference import CONTEXT, _d, reference

SATURATED = ("softmax-saturated", "softmax-saturated-signs", "maxout-ovr-saturated",
             "rbf-saturated")


def load(vectors, name):
    with np.load(vectors / f"{name}.npz") as npz:
        return {k: npz[k] for k in npz.files}


def _dot(a, b):
    return sum((_d(u) * _d(v) for u, v in zip(a, b, strict=True)), Decimal(0))


def decimal_forward(name, w, x):
    """Exact scores (Decimal) of one example, and what the backward pass needs."""
    if name == "rbf-saturated":
        q = [sum((_d(g) ** 2 * (_d(xj) - _d(m)) ** 2 for g, xj, m in zip(gk, x, mk,
                                                                         strict=True)),
                 Decimal(0)) for gk, mk in zip(w["gamma"], w["mu"], strict=True)]
        return [-v for v in q], None
    if name == "maxout-ovr-saturated":
        pre = [_dot(x, w["W0"][:, c]) + _d(w["b0"][c]) for c in range(w["W0"].shape[1])]
        units = len(pre) // 2                         # piece-major columns: unit u, piece p
        chosen = [max(range(2), key=lambda p, u=u: pre[p * units + u]) for u in range(units)]
        h = [pre[chosen[u] * units + u] for u in range(units)]
        z = [_dot_dec(h, w["W1"][:, k]) + _d(w["b1"][k]) for k in range(w["W1"].shape[1])]
        return z, (units, chosen)
    return [_dot(x, w["W"][:, k]) + _d(w["b"][k]) for k in range(w["W"].shape[1])], None


def _dot_dec(h, col):
    return sum((a * _d(b) for a, b in zip(h, col, strict=True)), Decimal(0))


def decimal_input_gradient(name, w, x, dz, route):
    d = len(x)
    if name == "rbf-saturated":     # dz = -dq; dq/dx_j = 2 A_kj (x_j - mu_kj)
        return [sum((-dz[k] * 2 * _d(w["gamma"][k, j]) ** 2 * (_d(x[j]) - _d(w["mu"][k, j]))
                     for k in range(len(dz))), Decimal(0)) for j in range(d)]
    if name == "maxout-ovr-saturated":
        units, chosen = route
        dh = [sum((dz[k] * _d(w["W1"][u, k]) for k in range(len(dz))), Decimal(0))
              for u in range(units)]
        return [sum((dh[u] * _d(w["W0"][j, chosen[u] * units + u]) for u in range(units)),
                    Decimal(0)) for j in range(d)]
    return [sum((dz[k] * _d(w["W"][j, k]) for k in range(len(dz))), Decimal(0))
            for j in range(d)]


OUTPUT = {"softmax-saturated": "softmax", "softmax-saturated-signs": "softmax",
          "maxout-ovr-saturated": "sigmoid-ovr", "rbf-saturated": "rbf"}


@pytest.mark.parametrize("name", SATURATED)
def test_saturated_references_equal_a_decimal_recomputation(vectors, name):
    case = load(vectors, name)
    w = {k[len("weights/"):]: v for k, v in case.items() if k.startswith("weights/")}
    x, y = case["x"], case["y"]
    with localcontext(CONTEXT):
        for i in range(len(x)):
            z, route = decimal_forward(name, w, x[i])
            z64 = np.array([float(v) for v in z])
            loss, dz = reference(OUTPUT[name], z64, y[i])
            # the reference's z is rounded to float64 first; its own rounding moves
            # the result by at most |z| u relatively, far below the tolerance here
            g = decimal_input_gradient(name, w, x[i], dz, route)
            want_loss = float(loss)
            assert abs(case["ref/losses"][i] - want_loss) <= 1e-12 * abs(want_loss), i
            scale = max(abs(float(v)) for v in g)
            for j, v in enumerate(g):
                assert abs(case["ref/input_gradient"][i, j] - float(v)) <= 1e-9 * scale
                sign = (v > 0) - (v < 0)
                assert case["ref/fgsm/inf/untargeted/noclip"][i, j] == x[i, j] + EPS * sign


class Printed(AdvrefSubject):
    """advref with the printed output forms, as the frameworks compute them."""

    @staticmethod
    def _model(kind, config, weights):
        model = AdvrefSubject._model(kind, config, weights)
        name = model.output.name

        class Output(type(model.output)):
            def loss(self, z, y):
                losses, dz = super().loss(z, y)
                rows = np.arange(len(y))
                if name == "softmax":
                    e = np.exp(z - z.max(axis=1, keepdims=True))
                    dz = softmax(z)
                    dz[rows, y] -= 1
                    losses = np.log(e.sum(axis=1)) - (z - z.max(axis=1, keepdims=True))[rows, y]
                elif name == "sigmoid-ovr":
                    dz = 1 / (1 + np.exp(-z))
                    dz[rows, y] -= 1
                elif name == "rbf":
                    q = -z
                    other = -np.log(1 - np.exp(-q))
                    other[rows, y] = q[rows, y]
                    losses = other.sum(axis=1)
                return losses, dz

        model.output = Output()
        return model


def test_the_printed_forms_fail_exactly_on_the_saturated_cases(vectors):
    rows = check(vectors, Printed())
    failed = {(r.case, r.quantity) for r in rows if r.status == "FAIL"}
    assert {c for c, _ in failed} == set(SATURATED)
    for name in SATURATED[:3]:        # the gradient's signs, hence FGSM's step
        assert (name, "input_gradient") in failed
        assert (name, "fgsm/inf/untargeted/noclip") in failed
    assert ("rbf-saturated", "losses") in failed
    assert ("softmax-saturated-signs", "losses") in failed
    assert all(r.status == "ok" for r in check(vectors, ADVREF))
