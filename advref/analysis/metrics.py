"""Error rates and confidences, from any model of the protocol.

Confidence of a prediction is the probability the model gives its predicted
class: max_k p_k (for the RBF network p_k are unnormalised, so low confidence in
every class is possible).
"""

from __future__ import annotations

import numpy as np


def error_rate(model, x, y) -> float:
    """Fraction of examples whose prediction differs from y."""
    return float(np.mean(model.predict(x) != y))


def evaluate(model, x, y) -> dict:
    """error, mean confidence, and mean confidence on the mistakes (NaN if none)."""
    proba = model.predict_proba(x)
    pred = model.predict(x)
    confidence = proba[np.arange(len(pred)), pred]
    wrong = pred != y
    return {
        "n": int(len(y)),
        "error": float(wrong.mean()),
        "mean_confidence": float(confidence.mean()),
        "mean_confidence_on_mistakes": float(confidence[wrong].mean()) if wrong.any()
        else float("nan"),
    }
