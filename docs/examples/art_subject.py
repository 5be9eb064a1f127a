"""An Adversarial Robustness Toolbox subject for `advref vectors --check DIR --impl
art_subject:SUBJECT`: ART's FastGradientMethod and BasicIterativeMethod on ART's
scikit-learn logistic regression wrapper, for the linear cases (softmax and
binary logistic).

Not a dependency of advref. Needs `pip install adversarial-robustness-toolbox packaging
scikit-learn`; put this folder on PYTHONPATH. Other model kinds raise
NotImplementedError, which the checker reports as skipped.

SUBJECT is ART as shipped (it casts inputs to art.config.ART_NUMPY_DTYPE, float32);
SUBJECT64 sets that dtype to float64 in every loaded ART module for each call, so
what is left is ART's own arithmetic.
"""

import contextlib
import sys

import numpy as np
from art.attacks.evasion import BasicIterativeMethod, FastGradientMethod
from art.estimators.classification import SklearnClassifier
from sklearn.linear_model import LogisticRegression


def _classifier(kind, weights, clip):
    if kind not in ("LogisticRegression", "SoftmaxRegression"):
        raise NotImplementedError(kind)
    W, b = weights["W"], weights["b"]
    if kind == "LogisticRegression":          # sklearn's binary form: one column, class 1
        classes = np.array([0, 1])
    else:
        classes = np.arange(W.shape[1])
    model = LogisticRegression()
    model.coef_, model.intercept_, model.classes_ = W.T.copy(), b.copy(), classes
    return SklearnClassifier(model, clip_values=clip), len(classes)


@contextlib.contextmanager
def _art_dtype(dtype):
    """ART_NUMPY_DTYPE set to dtype in every loaded art module, restored after."""
    modules = [m for name, m in list(sys.modules.items())
               if name.split(".")[0] == "art" and hasattr(m, "ART_NUMPY_DTYPE")]
    kept = [m.ART_NUMPY_DTYPE for m in modules]
    for m in modules:
        m.ART_NUMPY_DTYPE = dtype
    try:
        yield
    finally:
        for m, old in zip(modules, kept, strict=True):
            m.ART_NUMPY_DTYPE = old


class ArtSubject:
    def __init__(self, dtype=None):
        self.dtype = dtype

    def _dtype(self):
        return contextlib.nullcontext() if self.dtype is None else _art_dtype(self.dtype)

    def fgsm(self, kind, config, weights, x, y, eps, norm, targeted, clip):
        classifier, k = _classifier(kind, weights, clip)
        attack = FastGradientMethod(classifier, norm={"inf": np.inf, "2": 2, "1": 1}[norm],
                                    eps=eps, targeted=targeted)
        with self._dtype():
            return attack.generate(x, y=np.eye(k)[y])

    def iterative_fgsm(self, kind, config, weights, x, y, eps, steps, step_size, targeted,
                       clip):
        classifier, k = _classifier(kind, weights, clip)
        attack = BasicIterativeMethod(classifier, eps=eps, eps_step=step_size, max_iter=steps,
                                      targeted=targeted, verbose=False)
        with self._dtype():
            return attack.generate(x, y=np.eye(k)[y])


SUBJECT = ArtSubject()
SUBJECT64 = ArtSubject(np.float64)
