"""FGSM examples/s for the maxout model at batch 1000 (float32, float64) as a
fraction of the matmul rate measured in the same run, and minimal_perturbation
seconds per example (targeted and untargeted) on softmax regression and maxout,
both trained briefly on the bundled sample so the search has a real boundary.

    python benchmarks/bench_attacks.py [--json]
"""

import json
import sys
import time

import numpy as np
from common import MAXOUT_FLOPS, best_seconds, matmul_rate

from advref import fgsm, minimal_perturbation, train
from data_loaders import load_mnist_sample
from models import MaxoutMLP, SoftmaxRegression


def fgsm_rows():
    rows = []
    for dtype in (np.float32, np.float64):
        rng = np.random.default_rng(0)
        model = MaxoutMLP(rng=0, dtype=dtype)
        x = rng.random((1000, 784)).astype(dtype)
        y = rng.integers(0, 10, 1000)
        rate = matmul_rate(dtype)
        per_s = 1000 / best_seconds(lambda: fgsm(model, x, 0.25, y=y))  # noqa: B023
        rows.append({"dtype": np.dtype(dtype).name, "batch": 1000,
                     "fgsm_examples_per_s": round(per_s),
                     "fraction_of_matmul": round(per_s * MAXOUT_FLOPS["fgsm"] / rate, 3),
                     "matmul_GFLOPs": round(rate / 1e9, 1)})
    return rows


def minimal_rows(n=2):
    data = load_mnist_sample(dtype=np.float64)
    rows = []
    for name, model in (("softmax", SoftmaxRegression(784, 10)),
                        ("maxout", MaxoutMLP(units=(240, 240), rng=0))):
        train(model, data.x_train, data.y_train, epochs=5, lr=0.1, momentum=0.5, log=None)
        x = data.x_test[:n]
        for target in (1, None):
            start = time.perf_counter()
            results = minimal_perturbation(model, x, target=target)
            seconds = (time.perf_counter() - start) / n
            rows.append({"model": name, "mode": "untargeted" if target is None else "targeted",
                         "seconds_per_example": round(seconds, 2),
                         "iterations_per_example": float(np.mean([r.iterations
                                                                  for r in results])),
                         "success": sum(r.success for r in results) / n})
    return rows


if __name__ == "__main__":
    out = {"fgsm": fgsm_rows(), "minimal": minimal_rows()}
    if "--json" in sys.argv:
        print(json.dumps(out, indent=2))
    else:
        for r in out["fgsm"]:
            print(f"FGSM maxout {r['dtype']} batch 1000: {r['fgsm_examples_per_s']} examples/s, "
                  f"{r['fraction_of_matmul']:.1%} of {r['matmul_GFLOPs']} GFLOP/s matmul")
        for r in out["minimal"]:
            print(f"minimal {r['model']:8s} {r['mode']:10s}: {r['seconds_per_example']} s/example,"
                  f" {r['iterations_per_example']:.0f} L-BFGS iterations, success "
                  f"{r['success']:.0%}")
