"""The lecture's three benchmarks (paper-notes section 6) and the adversarial
subspace dimension (section 8), each reported with every parameter."""

from __future__ import annotations

import json
import time

import numpy as np

from advref import models
from advref.analysis.geometry import adversarial_subspace
from advref.attacks.minimal import minimal_perturbation
from advref.attacks.rubbish import rubbish_report, rubbish_samples
from advref.reproduce.chunks import in_chunks, measurement_key
from advref.reproduce.experiments import attack_params, attacked

MINIMAL_BATCH = 256
MINIMAL_CHUNK = 500
MINIMAL_CODE = 1          # bump when the search changes what it computes
# Each chunk's images shared among two processes with one BLAS thread each
# (advref.attacks.minimal_processes), as `advref minimal` runs on two cores. A
# fixed count, not the machine's: a row's last bits depend on how the images are
# shared, so the same count gives the same numbers on any core count (with the
# same BLAS kernel). On 2 cores, untargeted, 1.47-1.60 times as fast as one process
# (benchmarks/README.md); on 1 core the two take turns, about as fast as one.
MINIMAL_PROCESSES = 2
SUBSPACE = {"eps_l2": 5.0, "k": 50, "clip": [0.0, 1.0]}


def fixed_eps(ctx):
    """Benchmark 1: error on FGSM-perturbed test data at fixed eps; the same model
    version is used for the forward pass and the back-propagation."""
    for name in ("softmax", "maxout", "maxout-adv"):
        _, adv, _ = attacked(ctx, name)
        ctx.add(f"bench1-{name}", f"benchmark 1: fixed-eps FGSM, {name}", "error", None,
                adv["error"], model=name, forward_model=name, backprop_model=name,
                **attack_params(ctx))


def minimal_size(ctx):
    """Benchmark 2: the average size of the smallest misclassified perturbation,
    over the first n test examples the model classifies correctly (n None: all),
    MINIMAL_BATCH searches side by side (advref.attacks.minimal_batched) in each of
    MINIMAL_PROCESSES processes, in resumable chunks of MINIMAL_CHUNK images
    (advref.reproduce.chunks)."""
    n = ctx.profile["n_minimal"]
    data = ctx.data
    candidates = ctx.profile["minimal_candidates"]
    for name in ("softmax", "maxout"):
        model = ctx.model(name)
        right = np.flatnonzero(model.predict(data.x_test) == data.y_test)[:n]

        def compute(start, stop, model=model, right=right):
            begin = time.perf_counter()
            results = minimal_perturbation(model, data.x_test[right[start:stop]],
                                           y=data.y_test[right[start:stop]],
                                           candidates=candidates, batch=MINIMAL_BATCH,
                                           processes=MINIMAL_PROCESSES)
            return {"settings": np.array([json.dumps(results[0].settings)]),
                    "l2": np.array([r.l2 for r in results]),
                    "success": np.array([r.success for r in results]),
                    "iterations": np.array([r.iterations for r in results]),
                    "seconds": np.full(stop - start, (time.perf_counter() - begin)
                                       / (stop - start))}

        key = measurement_key({"model": models.params_digest(model), "data": data.digest,
                               "images": right.tolist(), "candidates": candidates,
                               "code": MINIMAL_CODE, "processes": MINIMAL_PROCESSES})
        got = in_chunks(ctx.cache.folder.parent, f"bench2-{name}", key, len(right),
                        MINIMAL_CHUNK, compute, log=ctx.cache.log)
        ok = got["success"]
        ctx.add(f"bench2-{name}", f"benchmark 2: minimal L2 perturbation, {name}",
                "mean L2 size", None, got["l2"][ok].mean() if ok.any() else None, unit="",
                model=name, n=len(right), batch=MINIMAL_BATCH, processes=MINIMAL_PROCESSES,
                candidates=candidates,
                examples="the first n correctly classified test images" if n else
                "every correctly classified test image",
                success_rate=float(ok.mean()), seconds_per_example=float(got["seconds"].mean()),
                mean_iterations=float(got["iterations"].mean()),
                settings=json.loads(got["settings"][0]))


def rubbish_class(ctx):
    """Benchmark 3: Gaussian fitted to the training inputs, one FGSM step toward
    each class t; rate of reaching t and of any class p > .5 (mean over t)."""
    n = ctx.profile["n_rubbish"]
    samples = rubbish_samples(n, source="gaussian-fit", x_train=ctx.data.x_train, rng=ctx.seed)
    for name in ("softmax", "maxout", "rbf"):
        model = ctx.model(name)
        reports = [rubbish_report(model, samples, eps=0.25, target=t)
                   for t in range(ctx.data.n_classes)]
        params = {"model": name, "source": "gaussian fit (per-pixel mean, std)", "n": n,
                  "eps": 0.25, "targets": "each class, mean", "clip": None, "seed": ctx.seed}
        ctx.add(f"bench3-{name}-target", f"benchmark 3: rubbish class, {name}",
                "reached target", None, np.mean([r["target_rate"] for r in reports]), **params)
        ctx.add(f"bench3-{name}-any", f"benchmark 3: rubbish class, {name}",
                "any class p > .5 after the step", None,
                np.mean([r["after_step"]["fooled_rate"] for r in reports]), **params)


def subspace(ctx):
    """Tramer et al.'s gradient-aligned adversarial subspace, counted on maxout."""
    n = ctx.profile["n_subspace"]
    data, model = ctx.data, ctx.model("maxout")
    right = np.flatnonzero(model.predict(data.x_test[:n]) == data.y_test[:n])
    counts = adversarial_subspace(model, data.x_test[right], data.y_test[right],
                                  SUBSPACE["eps_l2"], SUBSPACE["k"],
                                  clip=tuple(SUBSPACE["clip"]), rng=ctx.seed)
    ctx.add("subspace-maxout", "adversarial subspace dimension (GAAS), maxout",
            "mean adversarial directions", 25, counts.mean(), unit="", model="maxout",
            n=len(right), seed=ctx.seed, note="on correctly classified test examples",
            **SUBSPACE)


BENCHMARKS = (fixed_eps, minimal_size, rubbish_class, subspace)
