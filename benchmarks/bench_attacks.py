"""minimal_perturbation seconds per example (targeted at one class, targeted at each
other class in turn, untargeted over every class, and untargeted over the 3
highest-scoring wrong classes) on softmax regression
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
import scipy.optimize  # noqa: F401  (imported here, so no row's time includes the import)

from advref import minimal_perturbation, train
from advref.data_loaders import load_mnist_sample
from advref.models import MaxoutMLP, SoftmaxRegression


def minimal_rows(n=2):
    data = load_mnist_sample(dtype=np.float32)
    rows = []
    for name, model in (("softmax", SoftmaxRegression(784, 10, dtype=np.float32)),
                        ("maxout", MaxoutMLP(irange=0.05, rng=0, dtype=np.float32))):
        train(model, data.x_train, data.y_train, epochs=12, lr=0.1, momentum=0.5, log=None)
        test_error = float(np.mean(model.predict(data.x_test) != data.y_test))
        right = np.flatnonzero(model.predict(data.x_test) == data.y_test)[:n]
        x, y = data.x_test[right], data.y_test[right]
        each_other = [{"target": (y + shift) % 10} for shift in range(1, 10)]
        for mode, runs in (("targeted", [{"target": (y + 1) % 10}]),
                           ("targeted-each-other-class", each_other),
                           ("untargeted", [{}]), ("untargeted-top3", [{"candidates": 3}])):
            start = time.perf_counter()
            results = [r for kw in runs for r in minimal_perturbation(model, x, y=y, **kw)]
            seconds = (time.perf_counter() - start) / n
            rows.append({"model": name, "mode": mode, "test_error": test_error,
                         "seconds_per_example": round(seconds, 2),
                         "iterations_per_example": sum(r.iterations for r in results) / n,
                         "success": sum(r.success for r in results) / len(results)})
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
