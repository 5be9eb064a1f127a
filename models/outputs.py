"""Output kinds: how scores become probabilities and which loss trains them.

Every loss takes scores (never probabilities) and returns each example's own
loss and its gradient with respect to that example's scores, so a caller can
average for training or keep per-example gradients for attacks.

Softmax (k classes), scores z (n, k), m = argmax z_i, s = z_i - z_im, e = exp(s):
    L_i  = logsumexp(z_i) - z_i[y_i] = log1p(sum_{k != m} e_k) - s_y
    dz_ik = p_k = e_k / sum e                   k != y_i
    dz_iy = p_y - 1 = -sum_{k != y} e_k / sum e
Both sums are taken without the term they leave out, never as a difference: once
p_y rounds to 1, softmax - onehot gives dz_y = 0 and log(sum e) gives L = 0,
though both are ~e^-margin (see "Exact at saturation" in docs/derivations.md).

Sigmoid (binary, labels 0/1), scores z (n, 1), s = 2y - 1:
    L_i  = softplus(-s_i z_i)                  softplus(t) = log(1 + e^t)
    dz_i = -s_i * sigmoid(-s_i z_i)
    proba = [sigmoid(-z), sigmoid(z)]          (n, 2)

Independent sigmoids (k classes, one-vs-rest; the paper's maxout "with
independent sigmoid outputs"), scores z (n, k), t_ik = +1 if k == y_i else -1:
    L_i   = sum_k softplus(-t_ik z_ik)
    dz_ik = -t_ik sigmoid(-t_ik z_ik)          (= sigmoid(z_ik) - [k == y_i], which
                                               rounds to 0 for the target once
                                               sigmoid(z) rounds to 1)
    proba = sigmoid(z), each class on its own: rows need not sum to 1.

Per-class RBF (unnormalised), scores z = log p = -q (n, k), q >= 0:
    L_i  = q_i[y_i] + sum_{k != y_i} -log(1 - exp(-q_ik))     one-vs-rest BCE
           where -log(1 - e^-q) = -log1p(-e^-q) for q > log 2 (log(1 - e^-q) would
           round to 0), and -log(-expm1(-q)) below (1 - e^-q would cancel)
    dq_ik = 1                                   k == y_i
          = -exp(-q_ik) / (1 - exp(-q_ik))      k != y_i  (written with expm1)
    dz    = -dq
    proba = exp(z), each class on its own: rows need not sum to 1.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import DTypeLike

# The RBF non-target term -log(1 - e^-q) is infinite at q = 0 exactly; q is
# floored here so a centre hit exactly gives a large finite loss (~708 in float64).
_Q_FLOOR = {np.dtype(np.float32): np.finfo(np.float32).tiny,
            np.dtype(np.float64): np.finfo(np.float64).tiny}
_LOG2 = float(np.log(2.0))


def log_softmax(z: np.ndarray) -> np.ndarray:
    """z - logsumexp(z) per row, computed as s - log sum exp(s) with s = z - max(z):
    shifting first avoids cancelling two large numbers, which loses digits in
    float32 at |z| ~ 1e4."""
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def softplus(t: np.ndarray) -> np.ndarray:
    """log(1 + e^t) without overflow: max(t, 0) + log1p(e^-|t|)."""
    return np.maximum(t, 0) + np.log1p(np.exp(-np.abs(t)))


def sigmoid(t: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-t) without overflow: e^-|t| is never larger than 1."""
    e = np.exp(-np.abs(t))
    return np.where(t >= 0, 1 / (1 + e), e / (1 + e))


def _difference(a, b):
    """(s, low) with s = fl(a - b) and s + low = a - b exactly (Knuth's TwoSum); low is
    0 where s overflows. exp(a - b) has relative condition |a - b|: without low the
    rounding of s alone costs |s| u, ~170 ulps of p at a margin of 170 in float64."""
    with np.errstate(invalid="ignore", over="ignore"):
        s = a - b                     # -inf below the float range: e^s = 0, as it should
        b_part = s - a
        low = (a - (s - b_part)) - (b + b_part)
    return s, np.where(np.isfinite(low), low, 0).astype(s.dtype)


def _sum_without(e, leave_out):
    """Each row's sum of e without its entry at column leave_out[i]."""
    kept = e.copy()
    kept[np.arange(len(e)), leave_out] = 0
    return kept.sum(axis=1)


def onehot(y: np.ndarray, k: int, dtype: DTypeLike) -> np.ndarray:
    out = np.zeros((len(y), k), dtype)
    out[np.arange(len(y)), y] = 1
    return out


class SoftmaxOutput:
    name = "softmax"

    def proba(self, z: np.ndarray) -> np.ndarray:
        return softmax(z)

    def predict(self, z: np.ndarray) -> np.ndarray:
        return z.argmax(axis=1)

    def loss(self, z: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rows = np.arange(len(y))
        top = z.argmax(axis=1)
        shifted, low = _difference(z, z[rows, top][:, None])   # s + low = z - max z
        e = np.exp(shifted)
        e += e * low                                 # e^(s + low) = e^s (1 + low)
        rest = _sum_without(e, top)                  # sum e - 1, without cancelling
        total = (1 + rest)[:, None]
        # three terms >= 0 (s_y <= 0 and low_y its rounding): no cancellation
        losses = np.log1p(rest) - shifted[rows, y] - low[rows, y]
        dz = e / total
        dz[rows, y] = -_sum_without(e, y) / total[:, 0]
        return losses, dz


class SigmoidOutput:
    name = "sigmoid"

    def proba(self, z: np.ndarray) -> np.ndarray:
        return np.concatenate([sigmoid(-z), sigmoid(z)], axis=1)

    def predict(self, z: np.ndarray) -> np.ndarray:
        return (z[:, 0] > 0).astype(np.int64)

    def loss(self, z: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        s = (2 * y - 1).astype(z.dtype)[:, None]
        losses = softplus(-s * z)[:, 0]
        return losses, -s * sigmoid(-s * z)


class IndependentSigmoidOutput:
    name = "sigmoid-ovr"

    def proba(self, z: np.ndarray) -> np.ndarray:
        return sigmoid(z)

    def predict(self, z: np.ndarray) -> np.ndarray:
        return z.argmax(axis=1)

    def loss(self, z: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        target = onehot(y, z.shape[1], z.dtype)
        t = 2 * target - 1
        return softplus(-t * z).sum(axis=1), -t * sigmoid(-t * z)


class RBFOutput:
    name = "rbf"

    def proba(self, z: np.ndarray) -> np.ndarray:
        return np.exp(z)

    def predict(self, z: np.ndarray) -> np.ndarray:
        return z.argmax(axis=1)

    def loss(self, z: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        q = np.maximum(-z, _Q_FLOOR[z.dtype])
        target = onehot(y, z.shape[1], z.dtype).astype(bool)
        p, one_minus_p = np.exp(-q), -np.expm1(-q)
        # -log(1 - p): log1p where p < 1/2 (q > log 2), log of expm1 elsewhere; the
        # minimum keeps the unused branch finite (no warnings) where p is near 1
        nontarget = np.where(q > _LOG2, -np.log1p(-np.minimum(p, 0.5)), -np.log(one_minus_p))
        per_class = np.where(target, q, nontarget)
        dq = np.where(target, 1, -p / one_minus_p).astype(z.dtype)
        return per_class.sum(axis=1), -dq


OUTPUTS = {o.name: o for o in (SoftmaxOutput(), SigmoidOutput(), IndependentSigmoidOutput(),
                                RBFOutput())}
HIDDEN_NET_OUTPUTS = ("softmax", "sigmoid-ovr")
