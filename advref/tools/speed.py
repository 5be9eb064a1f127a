"""Speed of the maxout model's work, as fractions of this machine's matmul rate.

Everything is measured in one run: each task's examples/s and the machine's
(n, n) @ (n, n) matmul FLOP rate in the same dtype, timed in alternating rounds
of a quarter second each, so that both see the same load. Each round gives a
ratio; the table shows the round with the median ratio. (On a shared machine
the matmul rate drifts by a third within a minute: a rate taken once at the
start, or the best task time set against the best matmul time, makes noise.)
Work per example is counted as 2 FLOPs per multiply-add of the model's matrix
products (784-(240x5)-(240x5)-10):

    forward          x W0, h1 W1, h2 W2                                ~2.46 MFLOP
    train step       forward + every dW + the input gradients of
                     layers 1 and 2 (layer 0's d_x is not computed)    ~5.5 MFLOP
    FGSM             forward + the input gradient through every layer  ~4.9 MFLOP
    adversarial step FGSM + a train step on the stacked batch [x; x_adv]
                     (two examples' training work per example)          ~15.9 MFLOP
    products only    the matrix products of a training step alone, the
                     same shapes: the ceiling of the train step         ~5.5 MFLOP
    FGSM products    the matrix products of FGSM alone: its ceiling     ~4.9 MFLOP

Beside the matmul rate the run measures the rate at which one thread copies a
16 MB array (bytes read + bytes written per second): everything in a step that
is not a matrix product (bias, maxout, dropout, the momentum update) is a pass
over memory at about that rate.

The fractions compare useful work with the machine's best matmul rate; they are
ratios from one run, so a busy machine lowers both sides alike.
"""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np

MACS = 784 * 1200 + 240 * 1200 + 240 * 10
FLOPS = {
    "forward": 2 * MACS,
    "train_step": 2 * (2 * MACS + 240 * 1200 + 240 * 10),
    "fgsm": 2 * (2 * MACS),
}
FLOPS["adversarial_step"] = FLOPS["fgsm"] + 2 * FLOPS["train_step"]
FLOPS["products_only"] = FLOPS["train_step"]
FLOPS["fgsm_products"] = FLOPS["fgsm"]
COPY_BYTES = 16 * 2**20


def seconds_per_call(fn, min_time):
    """Mean time of fn() over as many calls as fill `min_time` (at least one)."""
    calls, start = 0, time.perf_counter()
    while True:
        fn()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_time:
            return elapsed / calls


def best_seconds(fn, repeat=5, min_time=0.2):
    """Best per-call time of fn() over `repeat` rounds of at least `min_time` each."""
    fn()
    return min(seconds_per_call(fn, min_time) for _ in range(repeat))


def matmul_reference(dtype, n=2048):
    """(one (n, n) @ (n, n) product, its FLOPs 2 n^3)."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)).astype(dtype)
    b = rng.standard_normal((n, n)).astype(dtype)
    return (lambda: a @ b), 2 * n**3


def paired_median(fn, reference, rounds=7, min_time=0.25):
    """(seconds of fn, seconds of reference) from the round, of `rounds` alternating
    ones, whose ratio reference/fn is the median."""
    fn(), reference()
    pairs = [(seconds_per_call(fn, min_time), seconds_per_call(reference, min_time))
             for _ in range(rounds)]
    pairs.sort(key=lambda pair: pair[1] / pair[0])
    return pairs[len(pairs) // 2]


def tasks(dtype, batch):
    """{task: zero-argument function doing one batch of it} for a fresh maxout model."""
    from advref.attacks.fast_gradient import fgsm
    from advref.models import MaxoutMLP
    from advref.training.objectives import adversarial
    from advref.training.sgd import sgd_step

    rng = np.random.default_rng(0)
    model = MaxoutMLP(rng=0, dtype=dtype)
    x = rng.random((batch, 784)).astype(dtype)
    y = rng.integers(0, 10, batch)
    velocity = {k: np.zeros_like(v) for k, v in model.params.items()}
    adv = adversarial(eps=0.25, alpha=0.5)

    def step(objective):
        _, grads = objective(model, x, y, rng)
        sgd_step(model, grads, velocity, 0.5, 1e-4, {}, model.max_col_norm)

    return {
        "products_only": train_products(model, x),
        "fgsm_products": fgsm_products(model, x),
        "forward": lambda: model.forward(x),
        "fgsm": lambda: fgsm(model, x, 0.25, y=y),
        "train_step": lambda: step(lambda m, a, b, r: m.loss_and_grads(a, b, train=True,
                                                                         rng=r)),
        "adversarial_step": lambda: step(adv),
    }


def train_products(model, x):
    """The matrix products of a training step alone, same shapes and dtype: the
    ceiling a training step could reach on this machine's BLAS."""
    P = model.params
    z0 = x @ P["W0"]
    h1, h2 = z0[:, :240].copy(), z0[:, 240:480].copy()
    d = z0[:, :10].copy()

    def products():
        return (x @ P["W0"], h1 @ P["W1"], h2 @ P["W2"], h2.T @ d, d @ P["W2"].T,
                h1.T @ z0, z0 @ P["W1"].T, x.T @ z0)

    return products


def fgsm_products(model, x):
    """The matrix products of FGSM alone (forward, then the input gradient through
    every layer), same shapes and dtype: FGSM's ceiling on this machine's BLAS."""
    P = model.params
    z0 = x @ P["W0"]
    h = z0[:, :240].copy()
    d = z0[:, :10].copy()

    def products():
        return (x @ P["W0"], h @ P["W1"], h @ P["W2"], d @ P["W2"].T, z0 @ P["W1"].T,
                z0 @ P["W0"].T)

    return products


def copy_rate(nbytes=COPY_BYTES):
    """Bytes moved per second (read + written) by one np.copyto of an nbytes array."""
    src = np.ones(nbytes // 8)
    dst = np.empty_like(src)
    return 2 * nbytes / best_seconds(lambda: np.copyto(dst, src), repeat=5, min_time=0.1)


def import_seconds():
    code = "import time; t = time.perf_counter(); import advref; print(time.perf_counter() - t)"
    runs = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                 check=True).stdout) for _ in range(3)]
    return min(runs)


def run(batches=(100, 1000), dtypes=("float32", "float64"), *, rounds=7, min_time=0.25,
        size=2048):
    """Every task at every batch and dtype, against the (size, size) matmul rate."""
    rows = []
    for name in dtypes:
        dtype = np.dtype(name)
        product, product_flops = matmul_reference(dtype, size)
        for batch in batches:
            for task, fn in tasks(dtype, batch).items():
                seconds, product_seconds = paired_median(fn, product, rounds, min_time)
                per_s, rate = batch / seconds, product_flops / product_seconds
                rows.append({"dtype": name, "batch": batch, "task": task,
                             "examples_per_s": round(per_s),
                             "GFLOPs": round(per_s * FLOPS[task] / 1e9, 3),
                             "matmul_GFLOPs": round(rate / 1e9, 3),
                             "fraction": round(per_s * FLOPS[task] / rate, 3)})
    return {"rows": rows, "memory_copy_GBs": round(copy_rate() / 1e9, 1),
            "import_advref_seconds": round(import_seconds(), 3)}


def table(result):
    lines = [f"{'dtype':8s} {'batch':>5s} {'task':17s} {'examples/s':>10s} {'GFLOP/s':>8s} "
             f"{'matmul':>7s} {'fraction':>8s}"]
    for r in result["rows"]:
        lines.append(f"{r['dtype']:8s} {r['batch']:5d} {r['task']:17s} {r['examples_per_s']:10d} "
                     f"{r['GFLOPs']:8.1f} {r['matmul_GFLOPs']:7.1f} {r['fraction']:8.1%}")
    lines.append(f"memory copy (one thread, 16 MB): {result['memory_copy_GBs']:.1f} GB/s")
    lines.append(f"import advref: {result['import_advref_seconds']:.3f} s")
    return "\n".join(lines)
