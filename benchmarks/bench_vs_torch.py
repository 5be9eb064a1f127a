"""advref against PyTorch on CPU, on every task of the maxout recipe (issue 32,
part 2), in one process, in alternating rounds.

The model is the recipe's 784-(240x5)-(240x5)-10 maxout in float32 with dropout
(.8 on the input, .5 on the hidden layers), momentum SGD and max-norm 1.9365, in
both libraries. The tasks, as `advref bench` counts them:

    train step          one momentum update on a batch (dropout on)
    FGSM                x + eps sign(grad_x J) for a batch, evaluation mode
    adversarial step    FGSM (eval-mode gradient), then one update on [x; x_adv]
    adversarial, train  the same with x_adv from the training loss under its own
                        dropout mask (the paper profile's `--adv-grad train`)

PyTorch runs its own autograd, dropout kernel and
`torch.nn.functional.cross_entropy`, and the same update written with in-place
tensor operations. Each round times both libraries
on one task for a quarter second each; the table shows the median over rounds of
advref's examples/s divided by PyTorch's, and each one's rate as a fraction of
the FLOPs of the task's matrix products per second at that rate, against the
(2048, 2048) float32 matmul rate of NumPy's BLAS, measured in the same rounds.

    python benchmarks/bench_vs_torch.py [--rounds 7] [--threads 2] [--json]

Needs PyTorch (not one of advref's dependencies): run it in an environment that
has it, on an idle machine.
"""

import argparse
import json
import time

import numpy as np
import torch

from advref._allocator import retain_freed_memory
from advref.tools.speed import FLOPS, matmul_reference, tasks

TRAIN_FLOPS = FLOPS["train_step"]
TASK_FLOPS = {"train_step": TRAIN_FLOPS, "fgsm": FLOPS["fgsm"],
              "adversarial_step": FLOPS["adversarial_step"],
              "adversarial_train": FLOPS["fgsm"] + 2 * TRAIN_FLOPS}


class TorchMaxout:
    """The recipe's maxout in PyTorch, with its momentum update and max-norm."""

    def __init__(self, seed=0):
        g = torch.Generator().manual_seed(seed)
        shapes = [(784, 1200), (240, 1200), (240, 10)]
        self.W = [((torch.rand(s, generator=g) * 2 - 1) * 0.005).requires_grad_()
                  for s in shapes]
        self.b = [torch.zeros(s[1], requires_grad=True) for s in shapes]
        self.v = [torch.zeros_like(p) for p in self.W + self.b]
        torch.manual_seed(seed)

    def forward(self, x, train):
        a = x
        for i in range(3):
            if train:                       # PyTorch's own dropout kernel, 1/keep scaling
                a = torch.nn.functional.dropout(a, p=0.2 if i == 0 else 0.5)
            z = a @ self.W[i] + self.b[i]
            a = z.view(len(z), 5, 240).amax(dim=1) if i < 2 else z
        return a

    def step(self, x, y):
        loss = torch.nn.functional.cross_entropy(self.forward(x, True), y)
        params = self.W + self.b
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, v, g in zip(params, self.v, grads, strict=True):
                v.mul_(0.5).sub_(g, alpha=0.1)
                p.add_(v)
            for W in self.W:
                norms = W.norm(dim=0)
                W.mul_(torch.clamp(1.9365 / norms, max=1.0))

    def fgsm(self, x, y, train=False):
        x = x.clone().requires_grad_()
        loss = torch.nn.functional.cross_entropy(self.forward(x, train), y, reduction="sum")
        (g,) = torch.autograd.grad(loss, x)
        return (x + 0.25 * g.sign()).detach()


def torch_tasks(batch):
    model = TorchMaxout()
    x = torch.rand(batch, 784)
    y = torch.randint(0, 10, (batch,))

    def adversarial(train):
        x_adv = model.fgsm(x, y, train=train)
        model.step(torch.cat([x, x_adv]), torch.cat([y, y]))

    return {"train_step": lambda: model.step(x, y), "fgsm": lambda: model.fgsm(x, y),
            "adversarial_step": lambda: adversarial(False),
            "adversarial_train": lambda: adversarial(True)}


def advref_tasks(batch):
    from advref.models import MaxoutMLP
    from advref.training.objectives import adversarial
    from advref.training.sgd import sgd_step

    found = tasks(np.dtype(np.float32), batch)
    model = MaxoutMLP(rng=0, dtype=np.float32)
    rng = np.random.default_rng(0)
    x = rng.random((batch, 784)).astype(np.float32)
    y = rng.integers(0, 10, batch)
    velocity = {k: np.zeros_like(v) for k, v in model.params.items()}
    objective = adversarial(eps=0.25, alpha=0.5, grad="train")

    def adversarial_train():
        _, grads = objective(model, x, y, rng)
        sgd_step(model, grads, velocity, 0.5, 0.1, {}, model.max_col_norm)

    return {"train_step": found["train_step"], "fgsm": found["fgsm"],
            "adversarial_step": found["adversarial_step"],
            "adversarial_train": adversarial_train}


def per_second(fn, batch, min_time):
    calls, start = 0, time.perf_counter()
    while time.perf_counter() - start < min_time:
        fn()
        calls += 1
    return batch * calls / (time.perf_counter() - start)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--min-time", type=float, default=0.25)
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    retain_freed_memory()                  # as the `advref` command runs
    torch.set_num_threads(args.threads)
    product, product_flops = matmul_reference(np.dtype(np.float32), 2048)
    rows = []
    for batch in (100, 1000):
        ours, theirs = advref_tasks(batch), torch_tasks(batch)
        for task in ours:
            if task == "fgsm" and batch == 100:
                continue
            ours[task](), theirs[task]()                    # warm-up
            ratios, a_rates, t_rates, gemm = [], [], [], []
            for _ in range(args.rounds):
                a = per_second(ours[task], batch, args.min_time)
                t = per_second(theirs[task], batch, args.min_time)
                m = per_second(product, 1, args.min_time) * product_flops
                ratios.append(a / t), a_rates.append(a), t_rates.append(t), gemm.append(m)
            k = int(np.argsort(ratios)[len(ratios) // 2])
            flops = TASK_FLOPS[task]
            rows.append({"task": task, "batch": batch, "advref_per_s": round(a_rates[k]),
                         "torch_per_s": round(t_rates[k]), "advref_over_torch":
                         round(ratios[k], 3),
                         "advref_gemm_fraction": round(a_rates[k] * flops / gemm[k], 3),
                         "torch_gemm_fraction": round(t_rates[k] * flops / gemm[k], 3),
                         "gemm_gflops": round(gemm[k] / 1e9, 1)})
    result = {"numpy": np.__version__, "torch": torch.__version__,
              "threads": args.threads, "rows": rows}
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"numpy {np.__version__}, torch {torch.__version__}, {args.threads} threads each")
    print(f"{'task':18s} {'batch':>5s} {'advref/s':>9s} {'torch/s':>9s} {'ratio':>6s} "
          f"{'advref GEMM':>11s} {'torch GEMM':>10s}")
    for r in rows:
        print(f"{r['task']:18s} {r['batch']:5d} {r['advref_per_s']:9d} {r['torch_per_s']:9d} "
              f"{r['advref_over_torch']:6.2f} {r['advref_gemm_fraction']:11.2f} "
              f"{r['torch_gemm_fraction']:10.2f}")


if __name__ == "__main__":
    main()
