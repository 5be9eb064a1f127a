"""One epoch of the paper profile's adversarial training, against its FLOP floor
(issue 32, part 3).

The recipe: the 240x5 two-layer maxout (784-(240x5)-(240x5)-10, dropout .8/.5/.5,
max-norm 1.9365), float32, batch 100, momentum, adversarial objective alpha .5,
eps .25, x_adv's gradient from the training loss with its own dropout mask
(`grad="train"`), no clipping; 50,000 training images, so 500 updates an epoch,
then the monitors: the error on 10,000 training images and FGSM error on the
10,000 validation images.

One update's matrix products, 2 FLOPs a multiply-add (F = one forward of 100
rows, 246.2 MFLOP; dX12 = the input gradients of layers 1 and 2, 58.1 MFLOP):

    x_adv's gradient     forward + every input gradient, 100 rows     2 F
    the training step    forward + every dW + dX12, on [x; x_adv]     2 (2 F + dX12)
                                                                      = 1,593.6 MFLOP

The floor is the time of exactly these products (same shapes, same dtype, the
same BLAS) timed alone; the update's time is measured with the whole objective
and the SGD step (momentum, max-norm). Both are timed in alternating rounds in
one process, so a busy machine slows both alike: run it on an idle machine. A
profiled run then splits the update's time by function (cProfile's own time).

    python benchmarks/profile_adversarial_epoch.py [--updates 50] [--rounds 5] [--json]

Needs full MNIST (ADVREF_DATA) for the monitor sizes; the timing itself does not
depend on the pixel values.
"""

import argparse
import cProfile
import json
import pstats
import time

import numpy as np

from advref._allocator import retain_freed_memory
from advref.attacks.fast_gradient import fgsm
from advref.datasets import load_data
from advref.fitting.recipes import get_recipe
from advref.training.objectives import adversarial
from advref.training.sgd import sgd_step

UPDATES_PER_EPOCH, BATCH, MONITOR = 500, 100, 10_000


def product_flops(batch, widths=((784, 1200), (240, 1200), (240, 10))):
    forward = sum(2 * batch * i * o for i, o in widths)
    dx12 = sum(2 * batch * i * o for i, o in widths[1:])
    return {"forward": forward, "update": 2 * forward + 2 * (2 * forward + dx12)}


def update_products(model, x):
    """The matrix products of one adversarial update alone: x_adv's gradient pass on
    100 rows, then the training step on the 200 stacked rows."""
    P = model.params
    x2 = np.concatenate([x, x])
    z = x2 @ P["W0"]
    h = np.ascontiguousarray(z[:, :240])
    d = np.ascontiguousarray(z[:, :10])
    h1, d1, z1 = h[:100].copy(), d[:100].copy(), z[:100].copy()

    def products():
        # x_adv's gradient: forward, then d_x through every layer (100 rows)
        x @ P["W0"], h1 @ P["W1"], h1 @ P["W2"]
        d1 @ P["W2"].T, z1 @ P["W1"].T, z1 @ P["W0"].T
        # the training step on [x; x_adv] (200 rows): forward, every dW, dX12
        x2 @ P["W0"], h @ P["W1"], h @ P["W2"]
        h.T @ d, d @ P["W2"].T, h.T @ z, z @ P["W1"].T, x2.T @ z

    return products


def seconds(fn, reps):
    start = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - start) / reps


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--updates", type=int, default=50, help="updates per timed round")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    retain_freed_memory()                  # as the `advref` command runs

    x_all, y_all, _, _, k = load_data("mnist", np.float32)
    x, y = x_all[:50_000], y_all[:50_000]
    x_valid, y_valid = x_all[50_000:], y_all[50_000:]
    recipe = get_recipe("maxout")
    model = recipe.build(784, k, rng=0, dtype=np.float32)
    train = recipe.train
    objective = adversarial(eps=0.25, alpha=0.5, clip=None, grad="train")
    velocity = {n: np.zeros_like(v) for n, v in model.params.items()}
    gen = np.random.default_rng(0)
    order = gen.permutation(len(x))
    position = [0]

    def update():
        i = position[0] % (len(x) // BATCH)
        position[0] += 1
        rows = order[i * BATCH:(i + 1) * BATCH]
        _, grads = objective(model, x[rows], y[rows], gen)
        sgd_step(model, grads, velocity, train.get("momentum", 0.5), train["lr"], {},
                 model.max_col_norm)

    products = update_products(model, x[:BATCH])

    def monitors():
        (model.predict(x[:MONITOR]) != y[:MONITOR]).mean()
        (model.predict(fgsm(model, x_valid, 0.25, y=y_valid, clip=None)) != y_valid).mean()

    update(), products()                               # warm-up
    ratios, upd, prod = [], [], []
    for _ in range(args.rounds):
        u = seconds(update, args.updates)
        q = seconds(products, args.updates)
        upd.append(u), prod.append(q), ratios.append(u / q)
    median = int(np.argsort(ratios)[len(ratios) // 2])
    t_update, t_products = upd[median], prod[median]
    t_monitor = seconds(monitors, 1)
    flops = product_flops(BATCH)
    monitor_flops = (flops["forward"] * MONITOR // BATCH            # train error
                     + 3 * flops["forward"] * MONITOR // BATCH)     # FGSM + its error

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(args.updates):
        update()
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = sum(v[2] for v in stats.stats.values())
    top = sorted(((v[2], f"{k[2]} ({k[0].rsplit('/', 1)[-1]}:{k[1]})")
                  for k, v in stats.stats.items()), reverse=True)[:12]

    epoch = UPDATES_PER_EPOCH * t_update + t_monitor
    rate = flops["update"] / t_products                 # FLOP/s of these very products
    floor = UPDATES_PER_EPOCH * t_products + monitor_flops / rate
    result = {
        "update_seconds": t_update, "products_seconds": t_products,
        "update_over_products": t_update / t_products,
        "gemm_rate_gflops": flops["update"] / t_products / 1e9,
        "update_gflops": flops["update"] / t_update / 1e9,
        "monitor_seconds": t_monitor,
        "epoch_seconds": epoch, "floor_epoch_seconds": floor,
        "epoch_over_floor": epoch / floor,
        "rounds": {"update": upd, "products": prod},
        "profile_own_time": [{"function": name, "share": s / total} for s, name in top],
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"one update: {1e3 * t_update:.1f} ms; its matrix products alone: "
          f"{1e3 * t_products:.1f} ms ({result['gemm_rate_gflops']:.1f} GFLOP/s); "
          f"ratio {result['update_over_products']:.2f}")
    print(f"monitors: {t_monitor:.2f} s an epoch")
    print(f"epoch: {epoch:.1f} s; floor {floor:.1f} s; ratio {epoch / floor:.2f}")
    print("own time by function (profiled updates):")
    for row in result["profile_own_time"]:
        print(f"  {100 * row['share']:5.1f}%  {row['function']}")


if __name__ == "__main__":
    main()
