"""VAT's KL and its score gradient against a 60-digit `decimal` reference, for
perturbations of the scores from 1e-8 to 1 and at saturation, in float64 and
float32. The printed sum p (log p - log q) loses ~u / KL of relative precision."""

from decimal import localcontext

import numpy as np
import pytest

from advref.models.outputs import log_softmax
from advref.training.virtual_adversarial import kl_between_scores
from tests.decimal_reference import CONTEXT, _d


def decimal_kl(z, z_adv):
    """(KL(softmax(z) || softmax(z_adv)), q - p) from the definitions, in Decimal."""
    def soft(v):
        top = max(_d(t) for t in v)
        e = [(_d(t) - top).exp() for t in v]
        total = sum(e)
        return [t / total for t in e], top + total.ln()

    p, lse = soft(z)
    q, lse_adv = soft(z_adv)
    # sum p (log p - log q) = sum p (z - z_adv) - lse + lse_adv, every term exact here
    kl = sum(pk * (_d(a) - _d(b)) for pk, a, b in zip(p, z, z_adv, strict=True)) - lse + lse_adv
    return kl, [qk - pk for pk, qk in zip(p, q, strict=True)]


def cases(dtype):
    rng = np.random.default_rng(3)
    z = rng.standard_normal((4, 5)) * 3
    saturated = z.copy()
    saturated[:, 0] += 40                            # p_0 rounds to 1 in both dtypes
    for base in (z, saturated):
        for size in (1e-8, 1e-5, 1e-3, 1e-1, 1.0):
            delta = rng.standard_normal(z.shape) * size
            yield base.astype(dtype), (base + delta).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_kl_and_its_gradient_within_their_condition_bound(dtype):
    """The bound is the first-order error of the formula given one rounding per
    operation: c = d - dbar carries u sum_j p_j |e_j| (e = d - d_m) of absolute error,
    which moves KL ~ 1/2 sum p c^2 by u (sum p |c|)(sum p |e|) and q_k - p_k by
    u p_k sum p |e|; 32 such units, on top of 32 u relative, and two steps of the
    subnormal grid where the answer is below the dtype's normal range."""
    u = float(np.finfo(dtype).eps) / 2
    grid = 2 * float(np.finfo(dtype).smallest_subnormal)
    for z, z_adv in cases(dtype):
        kl, d_z = kl_between_scores(z, z_adv)
        assert kl.dtype == dtype and d_z.dtype == dtype
        with localcontext(CONTEXT):
            for i in range(len(z)):
                ref_kl, ref_grad = decimal_kl(z[i], z_adv[i])
                p = np.exp(log_softmax(z[i:i + 1].astype(np.float64)))[0]
                d = z_adv[i].astype(np.float64) - z[i]
                e = d - d[np.argmax(z[i])]
                spread = (p * np.abs(e)).sum()
                c = e - (p * e).sum()
                bound = 32 * u * (float(ref_kl) + (p * np.abs(c)).sum() * spread) + grid
                assert abs(float(_d(kl[i]) - ref_kl)) <= bound, (i, kl[i], ref_kl)
                for k, ref in enumerate(ref_grad):
                    bound = (32 * u * (abs(float(ref)) + p[k] * (spread + np.abs(c[k])))
                             + grid)
                    assert abs(float(_d(d_z[i, k]) - ref)) <= bound, (i, k, d_z[i, k], ref)


def test_the_printed_form_loses_what_this_one_keeps():
    """At a KL of ~1e-12 the printed sum is off by ~1e-4 relative; this one by ~1e-15."""
    rng = np.random.default_rng(5)
    z = rng.standard_normal((1, 4))
    z_adv = z + 1e-6 * rng.standard_normal((1, 4))
    log_p, log_q = log_softmax(z), log_softmax(z_adv)
    printed = (np.exp(log_p) * (log_p - log_q)).sum()
    with localcontext(CONTEXT):
        ref = decimal_kl(z[0], z_adv[0])[0]
    assert float(abs(_d(printed) - ref) / ref) > 1e-6
    assert float(abs(_d(kl_between_scores(z, z_adv)[0][0]) - ref) / ref) < 1e-14
