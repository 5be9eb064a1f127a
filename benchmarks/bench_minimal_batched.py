"""Batched against one-at-a-time minimal perturbations, on the same model, in one run.

For each model: examples per second of the one-example search (the definition)
on the first N1 correctly classified test images and of the batched search on
the first NB (NB >= N1), targeted (at (y + 1) mod 10) and untargeted; the
agreement of the two on the shared N1 images; and what fraction of this
machine's matmul rate the batched objective evaluations reach. That fraction is
  (model evaluations x 4 x multiply-adds of the weights per row) / their seconds
  / the rate of a float matmul of the same shapes as the first layer,
where 4 = 2 flops per multiply-add x (forward + backward to the input). The
machine-independent speed is examples per second per TFLOP/s of that matmul
rate (issue 17's target, 10,000 images in 15 minutes on a 193 GFLOP/s machine,
is 57.6).

    ADVREF_DATA=... python benchmarks/bench_minimal_batched.py MODEL.npz [...]
        [--n1 4] [--nb 200] [--batch 256] [--json]

Run it on an idle machine; the matmul rate is measured in the same run.
"""

import argparse
import json
import time

import numpy as np
import scipy.optimize  # noqa: F401  (imported here, so no row's time includes the import)

from advref import minimal_perturbation, models
from advref._allocator import retain_freed_memory
from advref.data_loaders import load_mnist


class Counted:
    """The model, with its loss_grad rows and seconds counted."""

    def __init__(self, model):
        self.model, self.rows, self.seconds = model, 0, 0.0

    def __getattr__(self, name):
        return getattr(self.model, name)

    def loss_grad(self, x, y):
        start = time.perf_counter()
        out = self.model.loss_grad(x, y)
        self.seconds += time.perf_counter() - start
        self.rows += len(x)
        return out


def matmul_rate(model, rows):
    w = next(model.params[k] for k in sorted(model.params) if k.startswith("W"))
    a = np.random.default_rng(0).random((rows, w.shape[0])).astype(w.dtype)
    a @ w
    start, reps = time.perf_counter(), 0
    while time.perf_counter() - start < 1.0:
        a @ w
        reps += 1
    return 2.0 * rows * w.size * reps / (time.perf_counter() - start)


def mode_row(model, x, y, n1, batch, kw):
    start = time.perf_counter()
    one = minimal_perturbation(model, x[:n1], y=y[:n1],
                               **{k: v[:n1] for k, v in kw.items()})
    one_rate = n1 / (time.perf_counter() - start)
    counted = Counted(model)
    start = time.perf_counter()
    many = minimal_perturbation(counted, x, y=y, batch=batch, **kw)
    many_rate = len(x) / (time.perf_counter() - start)
    ratio = [b.l2 / a.l2 for a, b in zip(one, many, strict=False) if a.success and b.success]
    macs = sum(v.size for k, v in model.params.items() if k.startswith("W"))
    return {"one_examples_per_s": one_rate, "batched_examples_per_s": many_rate,
            "speedup": many_rate / one_rate,
            "same_success": all(a.success == b.success for a, b in zip(one, many, strict=False)),
            "l2_ratio_min": min(ratio), "l2_ratio_max": max(ratio),
            "evaluations_per_example": counted.rows / len(x),
            "evaluation_gflops": 4 * macs * counted.rows / counted.seconds / 1e9,
            "evaluation_share_of_time": counted.seconds * many_rate / len(x)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+")
    parser.add_argument("--n1", type=int, default=4)
    parser.add_argument("--nb", type=int, default=200)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    retain_freed_memory()                  # as the `advref` command runs
    out = []
    for path in args.models:
        model = models.load(path)
        data = load_mnist(dtype=model.dtype)
        right = np.flatnonzero(model.predict(data.x_test) == data.y_test)[:args.nb]
        x, y = data.x_test[right], data.y_test[right]
        rate = matmul_rate(model, min(args.batch, args.nb))
        for mode, kw in (("targeted", {"target": (y + 1) % 10}), ("untargeted", {})):
            row = mode_row(model, x, y, args.n1, args.batch, kw)
            row.update(model=path, mode=mode, n1=args.n1, nb=len(x), batch=args.batch,
                       matmul_gflops=rate / 1e9,
                       share_of_matmul_rate=row["evaluation_gflops"] * 1e9 / rate,
                       batched_examples_per_s_per_matmul_tflops=row[
                           "batched_examples_per_s"] / (rate / 1e12))
            out.append(row)
            if not args.json:
                print(f"{path} {mode}: one {row['one_examples_per_s']:.3f}/s, batched "
                      f"{row['batched_examples_per_s']:.3f}/s ({row['speedup']:.1f}x); "
                      f"l2 ratio {row['l2_ratio_min']:.4f}..{row['l2_ratio_max']:.4f}, "
                      f"same success {row['same_success']}; {row['evaluations_per_example']:.0f}"
                      f" evaluations/example at {row['share_of_matmul_rate']:.0%} of the "
                      f"{rate / 1e9:.0f} GFLOP/s matmul rate, "
                      f"{row['evaluation_share_of_time']:.0%} of the batched time")
    if args.json:
        print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
