"""Stub models shared by the tests: fixed outputs make every count a hand count."""

import numpy as np


class FixedModel:
    """A protocol model whose outputs ignore x: predict_proba gives the rows it was
    built with, predict the labels it was given (by default the rows' argmax, ties
    to the first), and the input gradient is zero, so FGSM leaves x where it is.
    The class count is the rows' width, or `n_classes`."""

    def __init__(self, proba=None, pred=None, n_classes=None):
        self.proba = None if proba is None else np.asarray(proba, float)
        self.pred = None if pred is None else np.asarray(pred)
        if n_classes is None:
            n_classes = self.proba.shape[1] if self.proba is not None else 3
        self.n_classes = n_classes

    def predict_proba(self, x):
        return self.proba[:len(x)]

    def predict(self, x):
        if self.pred is not None:
            return self.pred[:len(x)]
        return self.predict_proba(x).argmax(axis=1)

    def loss_grad(self, x, y):
        return np.zeros(len(x)), np.zeros_like(x)
