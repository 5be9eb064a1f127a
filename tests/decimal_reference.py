"""A 60-digit `decimal` reference for every output's loss and score gradient.

It takes the given scores as the exact binary numbers they are and computes from
the definitions, rewritten only by identities exact in real arithmetic (a shift by
the largest score; ln(1 + x) and 1 - e^-q at a precision raised by as many digits
as the cancellation can cost). Decimal's exp and ln are correctly rounded at the
context's precision. Used by tests/models/test_output_exactness.py and the
saturated conformance vectors' tests.
"""

from decimal import Context, Decimal, localcontext

import numpy as np

from advref.models.outputs import _Q_FLOOR as Q_FLOOR

CONTEXT = Context(prec=60, Emax=10**6, Emin=-10**6)


def _d(v):
    return Decimal(float(v))


def _digits_lost(x):
    return max(0, -x.adjusted()) if x else 0


def ln1p(x):
    """ln(1 + x) for x >= -1/2, with digits enough that 1 + x keeps all of x's; below
    10^-prec in size, ln(1 + x) = x (1 - x/2 + ...) is x to 60 digits."""
    if _digits_lost(x) > CONTEXT.prec:
        return x
    with localcontext(CONTEXT) as c:
        c.prec += _digits_lost(x)
        out = (1 + x).ln()
    return +out                                          # back to the context's precision


def one_minus_exp_neg(q):
    """1 - e^-q for q >= 0, with digits enough that the difference keeps 60; below
    10^-prec it is q (1 - q/2 + ...), q to 60 digits."""
    if _digits_lost(q) > CONTEXT.prec:
        return q
    with localcontext(CONTEXT) as c:
        c.prec += _digits_lost(q)
        out = 1 - (-q).exp()
    return +out


def ref_softmax(z, y):
    """(loss, dz) of one row: L = ln sum_k e^(z_k - z_y) = (z_m - z_y) + ln(1 + sum_(k!=m)
    e^(z_k - z_m)) with m the largest; dz_k = p_k, dz_y = -sum_(k!=y) p_k."""
    m = int(np.argmax(z))
    e = [(_d(v) - _d(z[m])).exp() for v in z]
    total = sum(e)
    dz = [v / total for v in e]
    dz[y] = -sum(v for k, v in enumerate(e) if k != y) / total
    return (_d(z[m]) - _d(z[y])) + ln1p(sum(v for k, v in enumerate(e) if k != m)), dz


def softplus_and_sigmoid(t):
    """(ln(1 + e^t), e^t / (1 + e^t)), through e^-|t| <= 1."""
    e = (-abs(t)).exp()
    if t > 0:
        return t + ln1p(e), 1 / (1 + e)
    return ln1p(e), e / (1 + e)


def ref_sigmoid(z, y):
    s = 2 * int(y) - 1                                   # L = ln(1 + e^t), t = -s z
    loss, sig = softplus_and_sigmoid(-s * _d(z[0]))
    return loss, [-s * sig]


def ref_sigmoid_ovr(z, y):
    loss, dz = Decimal(0), []
    for k, v in enumerate(z):
        t = 1 if k == y else -1
        term, sig = softplus_and_sigmoid(-t * _d(v))
        loss += term
        dz.append(-t * sig)
    return loss, dz


def ref_rbf(z, y, floor):
    loss, dz = Decimal(0), []
    for k, v in enumerate(z):
        q = max(-_d(v), _d(floor))
        if k == y:
            loss, dz = loss + q, dz + [Decimal(-1)]
        else:
            p, one_minus_p = (-q).exp(), one_minus_exp_neg(q)
            # -ln(1 - p): through ln1p(-p) where p is small, else through 1 - p
            term = -ln1p(-p) if p < Decimal("0.5") else -one_minus_p.ln()
            loss, dz = loss + term, dz + [p / one_minus_p]
    return loss, dz


def reference(name, z, y):
    with localcontext(CONTEXT):
        if name == "softmax":
            return ref_softmax(z, y)
        if name == "sigmoid":
            return ref_sigmoid(z, y)
        if name == "sigmoid-ovr":
            return ref_sigmoid_ovr(z, y)
        return ref_rbf(z, y, Q_FLOOR[z.dtype])
