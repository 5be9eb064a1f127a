"""Error rates and confidences, from any model of the protocol.

Confidence of a prediction is the probability the model gives its predicted
class: max_k p_k (for the RBF network p_k are unnormalised, so low confidence in
every class is possible).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from advref._validation import check_batch, check_labels, class_count, require_methods

if TYPE_CHECKING:
    from advref.models.protocol import Classifier


def _checked(model, x, y, who, methods):
    require_methods(model, methods, who)
    x = check_batch(x)
    return x, check_labels(y, len(x), class_count(model, x))


def error_rate(model: Classifier, x: np.ndarray, y: np.ndarray) -> float:
    """Fraction of examples whose prediction differs from y."""
    x, y = _checked(model, x, y, "error_rate", ("predict",))
    return float(np.mean(model.predict(x) != y))


def evaluate(model: Classifier, x: np.ndarray, y: np.ndarray) -> dict:
    """error, mean confidence, and mean confidence on the mistakes (NaN if none)."""
    x, y = _checked(model, x, y, "evaluate", ("predict", "predict_proba"))
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
