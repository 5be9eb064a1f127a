"""minimal_perturbation seconds per example (targeted, untargeted over every class,
and untargeted over the 3 highest-scoring wrong classes) on softmax regression
and maxout, both trained briefly on the bundled sample so the search has a real
boundary: float32, 12 epochs, maxout started at uniform(-.05, .05) as in the
sample profile (from the recipe's +-.005 a few epochs on 2,000 images leave it
on its initial plateau, a constant predictor). Each model's test error is
printed so the reader can see it was trained. (FGSM's speed is in `advref bench`.)

    python benchmarks/bench_attacks.py [--json]
"""

import json
import sys
import time

import numpy as np

from advref import minimal_perturbation, train
from data_loaders import load_mnist_sample
from models import MaxoutMLP, SoftmaxRegression


def minimal_rows(n=2):
    data = load_mnist_sample(dtype=np.float32)
    rows = []
    for name, model in (("softmax", SoftmaxRegression(784, 10, dtype=np.float32)),
                        ("maxout", MaxoutMLP(irange=0.05, rng=0, dtype=np.float32))):
        train(model, data.x_train, data.y_train, epochs=12, lr=0.1, momentum=0.5, log=None)
        test_error = float(np.mean(model.predict(data.x_test) != data.y_test))
        right = np.flatnonzero(model.predict(data.x_test) == data.y_test)[:n]
        x, y = data.x_test[right], data.y_test[right]
        for mode, kw in (("targeted", {"target": (y + 1) % 10}), ("untargeted", {}),
                         ("untargeted-top3", {"candidates": 3})):
            start = time.perf_counter()
            results = minimal_perturbation(model, x, y=y, **kw)
            seconds = (time.perf_counter() - start) / n
            rows.append({"model": name, "mode": mode, "test_error": test_error,
                         "seconds_per_example": round(seconds, 2),
                         "iterations_per_example": float(np.mean([r.iterations
                                                                  for r in results])),
                         "success": sum(r.success for r in results) / n})
    return rows


if __name__ == "__main__":
    out = {"minimal": minimal_rows()}
    if "--json" in sys.argv:
        print(json.dumps(out, indent=2))
    else:
        for r in out["minimal"]:
            print(f"minimal {r['model']:8s} (test error {r['test_error']:.1%}) {r['mode']:16s}: "
                  f"{r['seconds_per_example']} s/example,"
                  f" {r['iterations_per_example']:.0f} L-BFGS iterations, success "
                  f"{r['success']:.0%}")
