"""Maxout 784-(240x5)-(240x5)-10: training examples/s at batch 100 and 1000, in
float32 and float64, as a fraction of the machine's matmul rate measured in the
same run. One step = forward with dropout, backward, momentum update, max-norm
(advref.train.sgd_step), i.e. exactly what the trainer does per minibatch.

    python benchmarks/bench_maxout.py [--json]
"""

import json
import sys

import numpy as np
from common import MAXOUT_FLOPS, best_seconds, matmul_rate

from advref.train import sgd_step
from models import MaxoutMLP


def train_step_rate(dtype, batch):
    rng = np.random.default_rng(0)
    model = MaxoutMLP(rng=0, dtype=dtype)
    x = rng.random((batch, 784)).astype(dtype)
    y = rng.integers(0, 10, batch)
    velocity = {k: np.zeros_like(v) for k, v in model.params.items()}

    def step():
        _, grads = model.loss_and_grads(x, y, train=True, rng=rng)
        sgd_step(model, grads, velocity, 0.5, 0.01, {}, model.max_col_norm)

    return batch / best_seconds(step)


def main():
    rows = []
    for dtype in (np.float32, np.float64):
        rate = matmul_rate(dtype)
        for batch in (100, 1000):
            eps = train_step_rate(dtype, batch)
            rows.append({"dtype": np.dtype(dtype).name, "batch": batch,
                         "train_examples_per_s": round(eps),
                         "train_GFLOPs": round(eps * MAXOUT_FLOPS["train_step"] / 1e9, 2),
                         "matmul_GFLOPs": round(rate / 1e9, 2),
                         "fraction_of_matmul": round(eps * MAXOUT_FLOPS["train_step"] / rate, 3)})
    if "--json" in sys.argv:
        print(json.dumps(rows, indent=2))
        return
    print(f"{'dtype':8s} {'batch':>5s} {'examples/s':>10s} {'GFLOP/s':>8s} "
          f"{'matmul GFLOP/s':>14s} {'fraction':>8s}")
    for r in rows:
        print(f"{r['dtype']:8s} {r['batch']:5d} {r['train_examples_per_s']:10d} "
              f"{r['train_GFLOPs']:8.2f} {r['matmul_GFLOPs']:14.2f} {r['fraction_of_matmul']:8.1%}")


if __name__ == "__main__":
    main()
