"""The reproduction as named jobs: one per trained model, one per experiment.

A model job trains (or resumes, or finds) one model in DIR/models under its cache
key; an experiment job needs the models it names and adds rows. `plan` lists
them as shell commands with their keys and a cost estimate, so a user with a
cluster can run the model jobs with their own scheduler (a Slurm job array, GNU
parallel) into one shared DIR and then run `advref reproduce` to assemble the
results from the cache.

The cost estimate comes from a throughput probe on this machine: the time of a
few training steps of each model at its recipe's batch size, times the updates
an epoch, times the epoch cap (an upper bound: early stopping usually ends
sooner; the continue rule of the second stage adds an unknown number).

The machine's load is accounted for by what is timed. The probe runs with one
NumPy BLAS thread, as each `--jobs` worker trains, and takes the process's CPU
seconds, not the wall clock: other processes on the machine stretch the wall time
of a step (a busy 2-core machine once turned a softmax step's estimate into "66
s/epoch") but not the CPU time a one-thread step needs. So the estimate is the
cost on this machine idle, one job per core. The plan states the load average
before and after probing and the wall time each probe took beside its CPU time.
"""

from __future__ import annotations

import os
import shlex
import time

import numpy as np

from . import adv_grad_variant, beyond_fgsm, big_maxout, experiments, lecture

# The models each experiment reads (checked against the experiments by a test).
NEEDS = {
    "fgsm_error_rates": ("softmax", "logistic", "maxout", "rbf"),
    "adversarial_training": ("maxout", "maxout-adv", "maxout-sign-noise",
                             "maxout-uniform-noise", "maxout-l1"),
    "transfer_between": ("maxout", "maxout-adv", "rbf", "softmax", "relu", "tanh"),
    "rubbish": ("maxout", "softmax", "rbf"),
    "rubbish_sigmoid": ("maxout-sigmoid",),
    "ensemble": (),                   # the profile's members: needs()
    "random_noise_control": ("maxout",),
    "fixed_eps": ("softmax", "maxout", "maxout-adv"),
    "minimal_size": ("softmax", "maxout"),
    "rubbish_class": ("softmax", "maxout", "rbf"),
    "subspace": ("maxout",),
    "big_maxout": ("maxout1600", "maxout1600-adv"),
    "one_step_defence": ("maxout", "maxout-adv"),
    "adv_grad_eval": ("maxout-adv-eval",),
}
RUNS = {f.__name__: f for f in experiments.EXPERIMENTS + big_maxout.BIG_MAXOUT
        + lecture.BENCHMARKS + beyond_fgsm.BEYOND_FGSM + adv_grad_variant.ADV_GRAD_VARIANT}


def needs(name, profile):
    if name == "ensemble":
        return tuple(experiments.ensemble_members(profile))
    return NEEDS[name]


def available(profile):
    """The profile's experiments: the 1600-unit rows only where it trains those models,
    the eval-gradient variant only where adversarial training uses another mode."""
    return [n for n in RUNS if (n != "big_maxout" or profile["big_maxout"])
            and (n != "adv_grad_eval" or profile["adv_grad"] != "eval")]


def select(only=None, skip=None, profile=None):
    """The experiment names to run, in order; unknown names are a clear error, and so is
    `--only` naming an experiment the profile does not have."""
    for option, names in (("--only", only), ("--skip", skip)):
        unknown = sorted(set(names or ()) - set(RUNS))
        if unknown:
            raise ValueError(f"{option} must name experiments among {', '.join(RUNS)}, got "
                             f"{', '.join(unknown)} instead.")
    names = RUNS if profile is None else available(profile)
    missing = sorted(set(only or ()) - set(names))
    if missing:
        raise ValueError(f"--only names {', '.join(missing)}, which the {profile['name']} "
                         f"profile does not run (the 1600-unit models and the eval-gradient "
                         f"variant of adversarial training are trained only by the paper "
                         f"profile).")
    chosen = [n for n in names if (not only or n in only) and n not in (skip or ())]
    if not chosen:
        raise ValueError("--only and --skip leave no experiment to run.")
    return chosen


def models_for(chosen, profile):
    seen = []
    for name in chosen:
        seen += [m for m in needs(name, profile) if m not in seen]
    return seen


def probe_seconds_per_epoch(spec, data, steps=7):
    """(CPU, wall) seconds an epoch of this model's stage-1 training takes here with
    one BLAS thread: the median of a few timed steps after a warm-up step, times the
    updates an epoch. The CPU time is the estimate (see the module's docstring)."""
    from advref._blas_threads import numpy_blas_single_thread
    from advref.training.objectives import clean_objective
    from advref.training.sgd import sgd_step

    x, y, _, _ = data.split(spec.recipe.n_valid)
    batch = spec.settings.get("batch_size", 100)
    model = spec.recipe.build(x.shape[1], data.n_classes, rng=0, dtype=np.dtype(spec.dtype),
                              x=x, y=y)
    objective = spec.objective.build() or clean_objective
    velocity = {k: np.zeros_like(v) for k, v in model.params.items()}
    gen = np.random.default_rng(0)

    def step():
        _, grads = objective(model, x[:batch], y[:batch], gen)
        sgd_step(model, grads, velocity, 0.5, 1e-3, {}, model.max_col_norm)

    cpu, wall = [], []
    with numpy_blas_single_thread():
        step()
        for _ in range(steps):
            c, w = time.process_time(), time.perf_counter()
            step()
            cpu.append(time.process_time() - c)
            wall.append(time.perf_counter() - w)
    updates = -(-len(x) // batch)
    return float(np.median(cpu)) * updates, float(np.median(wall)) * updates


def load_average():
    """The 1-minute load average, or None where the system does not report one."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else None


def plan(cache, data_for, chosen, *, command, probe=True, log=None):
    """Model jobs then experiment jobs, each a dict with its command and estimate;
    each probe is announced on `log`. Nothing is written."""
    jobs = []
    names = models_for(chosen, cache.profile)
    for i, name in enumerate(names, 1):
        spec, key = cache.key(name, data_for(name))
        done = cache.path(name, key).exists()
        if probe and not done and log:
            print(f"[plan] probing {name} ({i}/{len(names)}): a few training steps",
                  file=log, flush=True)
        epochs = spec.settings["epochs"]
        per_epoch, wall = (probe_seconds_per_epoch(spec, data_for(name)) if probe and not done
                           else (None, None))
        stages = 2 if spec.stage2 else 1
        jobs.append({"job": f"train:{name}", "key": key, "done": done, "needs": [],
                     "epochs_cap": epochs, "stages": stages, "seconds_per_epoch": per_epoch,
                     "wall_seconds_per_epoch": wall, "cores": os.cpu_count(),
                     "load_average": load_average(),
                     "estimate_seconds": 0.0 if done else
                     (None if per_epoch is None else per_epoch * epochs * stages),
                     "command": command + ["--train", name]})
    for name in chosen:
        jobs.append({"job": f"experiment:{name}", "needs": [f"train:{m}" for m in
                                                           needs(name, cache.profile)],
                     "command": command + ["--only", name], "estimate_seconds": None})
    return jobs


def format_plan(jobs):
    lines = []
    total = 0.0
    for j in jobs:
        if j["job"].startswith("train:"):
            if j["done"]:
                cost = "done (in the cache)"
            elif j["estimate_seconds"] is None:
                cost = "not probed"
            else:
                total += j["estimate_seconds"]
                cost = (f"~{j['seconds_per_epoch']:.2f} s/epoch x up to {j['epochs_cap']} "
                        f"epochs x {j['stages']} stage(s): up to "
                        f"{fmt_duration(j['estimate_seconds'])} (probe wall "
                        f"{j['wall_seconds_per_epoch']:.2f} s/epoch at load "
                        f"{fmt_load(j['load_average'])})")
            lines.append(f"{j['job']:30s} key {j['key'][:12]}  {cost}")
        else:
            lines.append(f"{j['job']:30s} after {', '.join(j['needs'])}")
        lines.append(f"    {shlex.join(j['command'])}")
    lines.append(f"estimated training time, one job at a time on this machine idle: up to "
                 f"{fmt_duration(total)} (early stopping usually ends sooner)")
    lines.append(f"(load average now {fmt_load(load_average())} on {os.cpu_count()} cores. "
                 "Each estimate is the probe's CPU time with one BLAS thread, as a --jobs "
                 "worker trains, which other load on the machine does not stretch; the "
                 "probe's wall time is shown beside it. With that load the jobs take "
                 "longer.)")
    return "\n".join(lines)


def fmt_duration(seconds):
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min" if seconds < 7200 else f"{seconds / 3600:.1f} h"


def fmt_load(load):
    return "unknown" if load is None else f"{load:.2f}"


__all__ = ["NEEDS", "RUNS", "available", "format_plan", "models_for", "needs", "plan",
           "select"]
