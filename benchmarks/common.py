"""Shared pieces of the benchmarks: the machine's matmul rate and a best-of timer.

Every speed figure is reported beside the matrix-multiply FLOP rate measured in
the same run, as a fraction of it, because these machines are shared and noisy.
"""

import time

import numpy as np

# Maxout 784-(240x5)-(240x5)-10, multiply-adds per example of its matrix products
MAXOUT_FORWARD_MACS = 784 * 1200 + 240 * 1200 + 240 * 10
MAXOUT_FLOPS = {
    "forward": 2 * MAXOUT_FORWARD_MACS,                                      # ~2.46 MFLOP
    "train_step": 2 * (2 * MAXOUT_FORWARD_MACS + 240 * 1200 + 240 * 10),     # ~5.5 MFLOP
    "fgsm": 2 * (2 * MAXOUT_FORWARD_MACS),                                   # ~4.9 MFLOP
}


def best_seconds(fn, repeat=5, min_time=0.2):
    """Best per-call time of fn() over `repeat` rounds of at least `min_time` each."""
    fn()
    best = float("inf")
    for _ in range(repeat):
        calls, start = 0, time.perf_counter()
        while True:
            fn()
            calls += 1
            elapsed = time.perf_counter() - start
            if elapsed >= min_time:
                break
        best = min(best, elapsed / calls)
    return best


def matmul_rate(dtype, n=2048):
    """FLOP/s of an (n, n) @ (n, n) product: 2 n^3 / best time."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)).astype(dtype)
    b = rng.standard_normal((n, n)).astype(dtype)
    return 2 * n**3 / best_seconds(lambda: a @ b, repeat=3)
