"""Run every experiment of a profile and write DIR/results.json and DIR/results.md.

Models are trained once and cached in DIR/models (advref.reproduce.cache), so a
rerun, or a resume after an interruption, retrains nothing it has. With
jobs > 1 the models are first trained in that many worker processes, each with a
single BLAS thread; the experiments then load them from the cache.
"""

from __future__ import annotations

import datetime
import os
import platform
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import numpy as np

from advref._blas_threads import one_thread_environment
from advref._validation import MissingDependency
from advref.data_loaders import find_mnist
from advref.data_loaders.console import STDERR, Prefixed
from advref.reproduce import figures, report
from advref.reproduce.cache import ModelCache
from advref.reproduce.context import Context, Data
from advref.reproduce.experiments import ensemble_members
from advref.reproduce.jobs import RUNS, available, models_for, select
from advref.reproduce.profiles import MODELS, get_profile


class Interrupted(RuntimeError):
    """Raised by `stop_after_models` to simulate an interruption (tests)."""


def default_profile(log=STDERR):
    if find_mnist() is not None:
        return "quick"
    print("[reproduce] full MNIST not found: running the `sample` profile on the bundled "
          "sample (fetch MNIST with `advref data fetch` for the others)", file=log)
    return "sample"


def model_names(profile):
    members = set(ensemble_members(profile))
    return [n for n in MODELS if (profile["big_maxout"] or not n.startswith("maxout1600"))
            and (not n.startswith("maxout-member") or n in members)
            and (n != "maxout-adv-eval" or profile["adv_grad"] != "eval")]


def machine():
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):
        memory = float("nan")
    try:
        import scipy
        scipy_version = scipy.__version__
    except ImportError:
        scipy_version = None           # not installed: the L-BFGS-B rows are skipped
    return {"cpus": os.cpu_count(), "memory_gb": round(memory, 1),
            "python": platform.python_version(), "numpy": np.__version__,
            "scipy": scipy_version}


class WorkerDied(RuntimeError):
    """A --jobs worker ended without a result (killed, perhaps for memory)."""


class NoWorkerPool(WorkerDied):
    """The --jobs worker pool could not be made here (no writable /dev/shm, say)."""


def train_one(args):
    """One worker's job: (name, whether it trained rather than found the model)."""
    profile, name, out, seed = args
    ctx = make_context(profile, out, seed, log=Prefixed(STDERR, f"[{name}] "))
    ctx.model(name)
    return name, name in ctx.cache.trained


def eta_text(ctx, remaining, seconds_each):
    """The time left by the work left: the experiments' mean measuring time times
    those remaining, and the models they still have to train, named (their cost
    is `--plan`'s to estimate)."""
    untrained = [m for m in models_for(remaining, ctx.profile) if m not in ctx.cache.loaded]
    text = f"about {seconds_each * len(remaining):.0f} s of measuring left"
    return text + (f", after training {', '.join(untrained)}" if untrained else "")


def make_context(profile, out, seed, log):
    data = Data.load(profile["data"], profile["dtype"])
    binary = Data.load(profile["binary"], profile["dtype"])
    return Context(profile, data, binary, ModelCache(out, profile, seed, log=log), seed)


def pretrain_in_parallel(profile, out, seed, jobs, log, names=None):
    with one_thread_environment():
        import multiprocessing

        names = list(names or model_names(profile))
        trained = []
        try:
            pool = ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"))
        except OSError as err:        # e.g. no writable /dev/shm for its semaphores
            raise NoWorkerPool(
                f"--jobs {jobs} could not start its worker processes ({err}; Python's "
                "multiprocessing needs a writable /dev/shm); --jobs 1 trains in this "
                "process and works without it") from None
        with pool:
            futures = {pool.submit(train_one, (profile, n, out, seed)): n for n in names}
            try:
                for done in as_completed(futures):        # in the order they finish
                    name, was_trained = done.result()
                    trained += [name] if was_trained else []
                    print(f"[reproduce] {name}: {'trained' if was_trained else 'found'}",
                          file=log)
            except BrokenProcessPool:
                left = sorted(n for f, n in futures.items() if not f.done() or f.exception())
                raise WorkerDied(
                    f"a training process died (killed, perhaps for memory) while "
                    f"{', '.join(left)} were unfinished; rerun the same command to resume "
                    "them from their checkpoints") from None
        return trained


def train_models(profile, out="advref-results", names=None, *, seed=0, log=STDERR):
    """Train (or resume, or load) the named models of a profile into DIR/models and
    return their names: one training job each, runnable as its own process."""
    profile = get_profile(profile)
    known = model_names(profile)
    names = known if names is None else list(names)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"models must be among {known}, got {unknown} instead.")
    Path(out).mkdir(parents=True, exist_ok=True)
    ctx = make_context(profile, Path(out), seed, log)
    for name in names:
        ctx.model(name)
    return names


def reproduce(profile=None, out="advref-results", *, seed=0, jobs=1, log=STDERR,
              stop_after_models=None, only=None, skip=None):
    """Run a profile (or the experiments `only` names, less those `skip` names);
    returns the result dict that results.json holds."""
    start = time.perf_counter()
    profile = get_profile(profile or default_profile(log))
    chosen = select(only, skip, profile)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    trained_by_workers = []
    if jobs > 1 and stop_after_models is None:
        trained_by_workers = pretrain_in_parallel(profile, out, seed, jobs, log,
                                                  models_for(chosen, profile))
    ctx = make_context(profile, out, seed, log)
    ctx.cache.trained += trained_by_workers
    if stop_after_models is not None:
        for name in model_names(profile)[:stop_after_models]:
            ctx.model(name)
        raise Interrupted(f"stopped after {stop_after_models} model(s), as asked")
    measuring = 0.0                 # the experiments' own time, training left out
    skipped = {}
    for i, name in enumerate(chosen, 1):
        began, trained_before = time.perf_counter(), ctx.cache.training_seconds
        try:
            RUNS[name](ctx)
        except MissingDependency as err:           # SciPy absent: the other rows go on
            skipped[name] = str(err)
            print(f"[reproduce] experiment {name} skipped: {err}", file=log)
        measuring += time.perf_counter() - began - (ctx.cache.training_seconds - trained_before)
        left = eta_text(ctx, chosen[i:], measuring / i)
        print(f"[reproduce] experiment {i}/{len(chosen)} {name} done; "
              f"{time.perf_counter() - start:.0f} s so far; {left}", file=log)
    result = {"profile": profile["name"], "date": datetime.date.today().isoformat(),
              "experiments": chosen,
              "seed": seed, "machine": machine(),
              "data": {"name": ctx.data.name, "n_train": len(ctx.data.x_train),
                       "n_test": len(ctx.data.x_test), "sha256": ctx.data.digest},
              "models": ctx.cache.info, "trained_this_run": ctx.cache.trained,
              "rows": ctx.rows, "skipped": skipped, "figures": {}, "figures_note": ""}
    if len(chosen) < len(available(profile)):
        result["figures_note"] = "figures skipped: only some experiments were run"
    elif figures.available():
        result["figures"] = figures.make_figures(ctx, out)
    else:
        result["figures_note"] = ("figures skipped: matplotlib is not installed "
                                  "(pip install \"advref[plot]\")")
        print(f"[reproduce] {result['figures_note']}", file=log)
    result["wall_seconds"] = time.perf_counter() - start
    report.write(result, out)
    return result
