"""The batched driver (advref.attacks.minimal_batched) against the one-example
search, on small models that need no training: a model whose batched rows are its
one-row evaluations must give the one-example results bit for bit, whatever the
block size, the slot each search lands in, or the order searches finish in."""

import numpy as np
import pytest

from advref import minimal_perturbation
from advref.models import MaxoutMLP, SoftmaxRegression

pytest.importorskip("scipy.optimize", reason="the minimal search solves with SciPy's L-BFGS-B")

from advref.attacks.lbfgsb_steps import reverse_communication_works  # noqa: E402

pytestmark = pytest.mark.skipif(not reverse_communication_works(),
                                reason="this SciPy's L-BFGS-B is not the one the driver "
                                       "steps; minimal_perturbation solves one at a time")


class RowByRow:
    """Each row of a batch evaluated alone, and the rows each call held recorded."""

    def __init__(self, model):
        self.model, self.calls = model, []

    def __getattr__(self, name):
        if name == "model":          # unpickling (a spawned worker) asks before it is set
            raise AttributeError(name)
        return getattr(self.model, name)

    def loss_grad(self, x, y):
        self.calls.append(len(x))
        parts = [self.model.loss_grad(x[i:i + 1], y[i:i + 1]) for i in range(len(x))]
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    def predict(self, x):
        return np.concatenate([self.model.predict(x[i:i + 1]) for i in range(len(x))])


def small_models():
    """A random softmax and a random two-layer maxout on 12 inputs, float64 and
    float32, with inputs inside the unit box."""
    softmax = SoftmaxRegression(12, 4, dtype=np.float64, rng=2)
    softmax.params["W"] *= 40
    maxout = MaxoutMLP(12, 4, units=(6, 5), pieces=3, irange=0.9, rng=3, dtype=np.float32)
    x = np.random.default_rng(4).uniform(0.05, 0.95, (3, 12))
    return [(softmax, x), (maxout, x.astype(np.float32))]


def same(a, b):
    """Equal results, field for field; a failed search's sizes are NaN in both."""
    left, right = a.summary(), b.summary()
    return (np.array_equal(a.x_adv, b.x_adv) and left.keys() == right.keys()
            and all(left[k] == right[k] or (left[k] != left[k] and right[k] != right[k])
                    for k in left))


KWS = [{}, {"target": np.array([2, 0, 3])}, {"candidates": 2}, {"clip": None},
       {"maxiter": 3, "bisect_steps": 2}, {"c_init": 1e-3, "max_scale": 3}]
_definition = {}


def case(which, k):
    """(model, x, y, options, the one-example results), computed once per case."""
    if (which, k) not in _definition:
        model, x = small_models()[which]
        y, kw = model.predict(x), dict(KWS[k])
        if "target" in kw:
            keep = kw["target"] != y
            x, y, kw = x[keep], y[keep], {"target": kw["target"][keep]}
        _definition[which, k] = model, x, y, kw, minimal_perturbation(model, x, y=y, **kw)
    return _definition[which, k]


@pytest.mark.parametrize("which", [0, 1])
@pytest.mark.parametrize("k", range(len(KWS)))
@pytest.mark.parametrize("batch", [1, 4, 256])
def test_the_driver_gives_the_one_example_results_bit_for_bit(which, k, batch):
    model, x, y, kw, one = case(which, k)
    rows = RowByRow(model)
    many = minimal_perturbation(rows, x, y=y, batch=batch, **kw)
    assert len(one) == len(many) == len(x)
    assert all(same(a, b) for a, b in zip(one, many, strict=True))
    assert max(rows.calls) <= batch
    if which == 1 and "target" in kw:
        assert not all(r.success for r in many)     # a failed search compared too
    for res in many:
        assert res.x_adv.base is None


def test_full_rounds_hold_batch_searches():
    """With more searches than the block, every round holds the block until the
    queue runs dry: 3 images x 3 classes = 9 searches, 4 in flight."""
    model, x = small_models()[0]
    rows = RowByRow(model)
    minimal_perturbation(rows, x, batch=4)
    first_short = next(i for i, n in enumerate(rows.calls) if n < 4)
    assert rows.calls[:first_short] == [4] * first_short and first_short > 10
    assert max(rows.calls) == 4 and min(rows.calls) >= 1
