"""Where the minimal-perturbation search spends its time, one at a time and batched,
on the same images in one run, against the floor of issue 32 (part 1).

For each path, from one run timed with a pair of clock readings around every call
of SciPy's compiled L-BFGS-B routine and of the model (no profiler, which slows
Python calls several times over):
  - the wall time per image;
  - SciPy's routine `setulb` (its own time: the L-BFGS-B maths);
  - the model: `loss_grad` and `predict`, their rows, and their speed as a
    fraction of this machine's matmul rate for the weights' shapes;
  - everything else, which is Python (advref's search and, one at a time, SciPy's
    `minimize` wrapper);
  - L-BFGS-B iterations and model rows per image.
Then the default of `advref minimal`: the batched search with its examples
shared among --processes processes (default: the usable CPUs), each with one
BLAS thread; its wall time only (its parts run in other processes).
The floor is what one process driving these searches cannot avoid: SciPy's
routine (the smaller of the two paths' times) plus every model evaluation of the
batched path at the matmul rate (4 flops per weight per loss_grad row: forward and backward
to the input; 2 per predict row). The matmul rate is measured in the same run,
with as many rows as the batched rounds hold (the best of five readings).

    python benchmarks/profile_minimal_search.py MODEL.npz [--data sample] [--n 64]
        [--n-one K] [--batch 256] [--processes P] [--targeted] [--json]

--n-one K runs one at a time on the first K of the N images only (it takes
about five times as long per image), and compares the paths on those. Run it on
an idle machine.
"""

import argparse
import json
import time

import numpy as np
import scipy.optimize  # noqa: F401  (imported here, so no row's time includes the import)
import scipy.optimize._lbfgsb as compiled

import advref.attacks.lbfgsb_steps as steps
from advref import minimal_perturbation, models
from advref._allocator import retain_freed_memory
from advref.attacks.minimal_processes import usable_cpus
from advref.datasets import load_data

clock = time.perf_counter


def matmul_rate(model, rows, readings=5):
    """FLOP/s of x @ W for the model's weight matrices, rows x each, one after another:
    the best of `readings` half-second readings (other load only ever slows a
    reading down; one reading of a second was seen 25% low on this machine)."""
    weights = [v for k, v in sorted(model.params.items()) if k.startswith("W")]
    inputs = [np.random.default_rng(0).random((rows, w.shape[0])).astype(w.dtype)
              for w in weights]
    flops = sum(2.0 * rows * w.size for w in weights)
    for a, w in zip(inputs, weights, strict=True):
        a @ w
    best = 0.0
    for _ in range(readings):
        start, reps = clock(), 0
        while clock() - start < 0.5:
            for a, w in zip(inputs, weights, strict=True):
                a @ w
            reps += 1
        best = max(best, flops * reps / (clock() - start))
    return best


class Timed:
    """The model, with the seconds and rows of its loss_grad and predict counted."""

    def __init__(self, model):
        self.model = model
        self.seconds = {"loss_grad": 0.0, "predict": 0.0}
        self.rows = {"loss_grad": 0, "predict": 0}

    def __getattr__(self, name):
        return getattr(self.model, name)

    def _timed(self, name, x, *args):
        start = clock()
        out = getattr(self.model, name)(x, *args)
        self.seconds[name] += clock() - start
        self.rows[name] += len(x)
        return out

    def loss_grad(self, x, y):
        return self._timed("loss_grad", x, y)

    def predict(self, x):
        return self._timed("predict", x)


class TimedRoutine:
    """SciPy's setulb with its seconds counted; installed where both paths call it."""

    def __init__(self):
        self.real, self.seconds = compiled.setulb, 0.0

    def __call__(self, *args):
        start = clock()
        self.real(*args)
        self.seconds += clock() - start

    def __enter__(self):
        compiled.setulb = self
        steps.setulb_routine = lambda: self
        return self

    def __exit__(self, *exc):
        compiled.setulb = self.real
        steps.setulb_routine = lambda: self.real


def run(model, x, y, batch, kw):
    timed = Timed(model)
    with TimedRoutine() as routine:
        start = clock()
        results = minimal_perturbation(timed, x, y=y, batch=batch, **kw)
        wall = clock() - start
    n = len(x)
    model_seconds = sum(timed.seconds.values())
    return results, {
        "images": n, "seconds_per_image": wall / n,
        "setulb_seconds_per_image": routine.seconds / n,
        "loss_grad_seconds_per_image": timed.seconds["loss_grad"] / n,
        "predict_seconds_per_image": timed.seconds["predict"] / n,
        "python_seconds_per_image": (wall - routine.seconds - model_seconds) / n,
        "loss_grad_rows_per_image": timed.rows["loss_grad"] / n,
        "predict_rows_per_image": timed.rows["predict"] / n,
        "iterations_per_image": float(np.mean([r.iterations for r in results]))}


def run_shared(model, x, y, batch, processes, kw):
    start = clock()
    results = minimal_perturbation(model, x, y=y, batch=batch, processes=processes, **kw)
    wall = clock() - start
    return results, {"images": len(x), "processes": processes,
                     "seconds_per_image": wall / len(x),
                     "iterations_per_image": float(np.mean([r.iterations for r in results]))}


def agreement(one, many):
    pairs = list(zip(one, many, strict=True))
    ratio = [b.l2 / a.l2 for a, b in pairs if a.success and b.success]
    return {"compared": len(pairs),
            "same_success": all(a.success == b.success for a, b in pairs),
            "l2_ratio_min": min(ratio, default=None), "l2_ratio_max": max(ratio, default=None),
            "bit_identical": all(np.array_equal(a.x_adv, b.x_adv) for a, b in pairs)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--data", default="mnist")
    parser.add_argument("--n", type=int, default=64)
    parser.add_argument("--n-one", type=int, default=None)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--processes", type=int, default=usable_cpus())
    parser.add_argument("--targeted", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    retain_freed_memory()                  # as the `advref` command runs
    model = models.load(args.model)
    *_, x_test, y_test, _ = load_data(args.data, model.dtype)
    right = np.flatnonzero(model.predict(x_test) == y_test)[:args.n]
    x, y = x_test[right], y_test[right]
    kw = {"target": (y + 1) % model.n_classes} if args.targeted else {}
    searches = len(x) * (1 if args.targeted else model.n_classes - 1)
    rate = matmul_rate(model, min(args.batch, searches))
    macs = sum(v.size for k, v in model.params.items() if k.startswith("W"))
    k = len(x) if args.n_one is None else min(args.n_one, len(x))
    many, many_row = run(model, x, y, args.batch, kw)
    shared, shared_row = run_shared(model, x, y, args.batch, args.processes, kw)
    one, one_row = run(model, x[:k], y[:k], None, {key: v[:k] for key, v in kw.items()})
    for row in (one_row, many_row):
        flops = (4 * row["loss_grad_rows_per_image"] + 2 * row["predict_rows_per_image"]) * macs
        row["model_at_matmul_rate_seconds_per_image"] = flops / rate
        row["model_fraction_of_matmul_rate"] = row["model_at_matmul_rate_seconds_per_image"] / (
            row["loss_grad_seconds_per_image"] + row["predict_seconds_per_image"])
    floor = (min(one_row["setulb_seconds_per_image"], many_row["setulb_seconds_per_image"])
             + many_row["model_at_matmul_rate_seconds_per_image"])
    out = {"model": args.model, "data": args.data, "n": len(x), "batch": args.batch,
           "targeted": args.targeted, "matmul_gflops": rate / 1e9,
           "matmul_rows": min(args.batch, searches),
           "one_at_a_time": one_row, "batched": many_row,
           "batched_over_one_time": many_row["seconds_per_image"] / one_row["seconds_per_image"],
           "floor_seconds_per_image": floor,
           "batched_over_floor": many_row["seconds_per_image"] / floor,
           "agreement": agreement(one, many[:k]),
           "shared": shared_row,
           "shared_over_one_time": shared_row["seconds_per_image"] / one_row["seconds_per_image"],
           "shared_over_floor": shared_row["seconds_per_image"] / floor,
           "shared_agreement": agreement(one, shared[:k])}
    if args.json:
        print(json.dumps(out, indent=2))
        return
    for name in ("one_at_a_time", "batched"):
        r = out[name]
        print(f"{name:14s} {r['images']} images, {r['seconds_per_image']:.4f} s/image: setulb "
              f"{r['setulb_seconds_per_image']:.4f}, loss_grad "
              f"{r['loss_grad_seconds_per_image']:.4f}, predict "
              f"{r['predict_seconds_per_image']:.4f} (model at "
              f"{r['model_fraction_of_matmul_rate']:.0%} of {rate / 1e9:.0f} GFLOP/s), Python "
              f"{r['python_seconds_per_image']:.4f}; {r['iterations_per_image']:.0f} "
              f"iterations, {r['loss_grad_rows_per_image']:.0f} + "
              f"{r['predict_rows_per_image']:.0f} rows per image")
    print(f"{args.processes} processes  {len(x)} images, {shared_row['seconds_per_image']:.4f} "
          "s/image")
    print(f"floor {floor:.4f} s/image; batched / floor {out['batched_over_floor']:.2f}x, "
          f"{args.processes} processes / floor {out['shared_over_floor']:.2f}x; batched / one "
          f"at a time {out['batched_over_one_time']:.3f}x the time, {args.processes} "
          f"processes {out['shared_over_one_time']:.3f}x")
    for name in ("agreement", "shared_agreement"):
        a = out[name]
        print(f"{name}, on {a['compared']} images: same success {a['same_success']}, L2 ratio "
              f"{a['l2_ratio_min']}..{a['l2_ratio_max']}, bit-identical {a['bit_identical']}")


if __name__ == "__main__":
    main()
