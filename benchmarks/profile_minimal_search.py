"""Where the minimal-perturbation search spends its time, one at a time and batched,
on the same images in one run (issue 32).

For each path: the wall time per image (a run without the profiler); from a
second, profiled run, the shares of its time: SciPy's L-BFGS-B routine itself (the
compiled `setulb`, its own time); the model evaluations (`loss_grad`, with the rows
they evaluated, and their rate as a fraction of this machine's matmul rate for the
weights' shapes); everything else, which is Python (advref's search and, one at a
time, SciPy's `minimize` wrapper). Also the L-BFGS-B iterations and the model rows
evaluated per image, and whether the two paths agree (success flags, L2 within 1%).

    python benchmarks/profile_minimal_search.py MODEL.npz [--data sample] [--n 64]
        [--batch 256] [--targeted] [--json]

Run it on an idle machine: the matmul rate is measured in the same run.
"""

import argparse
import cProfile
import json
import pstats
import time

import numpy as np
import scipy.optimize  # noqa: F401  (imported here, so no row's time includes the import)

from advref import minimal_perturbation, models
from advref.datasets import load_data


def matmul_rate(model, rows):
    """FLOP/s of x @ W for the model's weight matrices, rows x each, one after another."""
    weights = [v for k, v in sorted(model.params.items()) if k.startswith("W")]
    inputs = [np.random.default_rng(0).random((rows, w.shape[0])).astype(w.dtype)
              for w in weights]
    flops = sum(2.0 * rows * w.size for w in weights)
    for a, w in zip(inputs, weights, strict=True):
        a @ w
    start, reps = time.perf_counter(), 0
    while time.perf_counter() - start < 1.0:
        for a, w in zip(inputs, weights, strict=True):
            a @ w
        reps += 1
    return flops * reps / (time.perf_counter() - start)


class Counted:
    """The model, with the rows its loss_grad evaluated counted."""

    def __init__(self, model):
        self.model, self.rows = model, 0

    def __getattr__(self, name):
        return getattr(self.model, name)

    def loss_grad(self, x, y):
        self.rows += len(x)
        return self.model.loss_grad(x, y)


def profiled(model, x, y, batch, kw):
    """(results, row): the wall time from a run without the profiler (which slows
    Python calls), the shares from a second, profiled run of the same search."""
    start = time.perf_counter()
    minimal_perturbation(model, x, y=y, batch=batch, **kw)
    plain = time.perf_counter() - start
    counted = Counted(model)
    profile = cProfile.Profile()
    start = time.perf_counter()
    profile.enable()
    results = minimal_perturbation(counted, x, y=y, batch=batch, **kw)
    profile.disable()
    wall = time.perf_counter() - start
    stats = pstats.Stats(profile).stats
    setulb = sum(v[2] for (_, _, name), v in stats.items() if "setulb" in name)
    evaluate = sum(v[3] for (file, _, name), v in stats.items()
                   if name == "loss_grad" and "profile_minimal_search" in file)
    return results, {"seconds_per_image": plain / len(x),
                     "profiled_seconds_per_image": wall / len(x),
                     "setulb_share": setulb / wall, "evaluation_share": evaluate / wall,
                     "python_share": 1 - (setulb + evaluate) / wall,
                     "rows_per_image": counted.rows / len(x),
                     "evaluation_seconds": evaluate,
                     "iterations_per_image": float(np.mean([r.iterations for r in results]))}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--data", default="mnist")
    parser.add_argument("--n", type=int, default=64)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--targeted", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    model = models.load(args.model)
    *_, x_test, y_test, _ = load_data(args.data, model.dtype)
    right = np.flatnonzero(model.predict(x_test) == y_test)[:args.n]
    x, y = x_test[right], y_test[right]
    kw = {"target": (y + 1) % model.n_classes} if args.targeted else {}
    rate = matmul_rate(model, min(args.batch, len(x)))
    macs = sum(v.size for k, v in model.params.items() if k.startswith("W"))
    one, one_row = profiled(model, x, y, None, kw)
    many, many_row = profiled(model, x, y, args.batch, kw)
    ratio = [b.l2 / a.l2 for a, b in zip(one, many, strict=True) if a.success and b.success]
    out = {"model": args.model, "data": args.data, "n": len(x), "batch": args.batch,
           "targeted": args.targeted, "matmul_gflops": rate / 1e9,
           "one_at_a_time": one_row, "batched": many_row,
           "batched_over_one_time": many_row["seconds_per_image"] / one_row["seconds_per_image"],
           "same_success": all(a.success == b.success for a, b in zip(one, many, strict=True)),
           "l2_ratio_min": min(ratio, default=None), "l2_ratio_max": max(ratio, default=None)}
    for row in (one_row, many_row):
        row["evaluation_share_of_matmul_rate"] = (
            4 * macs * row["rows_per_image"] * len(x) / row.pop("evaluation_seconds") / rate)
    if args.json:
        print(json.dumps(out, indent=2))
        return
    for name in ("one_at_a_time", "batched"):
        r = out[name]
        print(f"{name:14s} {r['seconds_per_image']:.3f} s/image: setulb "
              f"{r['setulb_share']:.0%}, model {r['evaluation_share']:.0%} (at "
              f"{r['evaluation_share_of_matmul_rate']:.0%} of {rate / 1e9:.0f} GFLOP/s), "
              f"Python {r['python_share']:.0%}; {r['iterations_per_image']:.1f} iterations, "
              f"{r['rows_per_image']:.0f} rows per image")
    print(f"batched / one at a time: {out['batched_over_one_time']:.2f}x the time; same "
          f"success {out['same_success']}; L2 ratio {out['l2_ratio_min']:.4f}.."
          f"{out['l2_ratio_max']:.4f}")


if __name__ == "__main__":
    main()
