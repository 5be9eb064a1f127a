"""`advref reproduce`: the paper's MNIST results and figures in one command."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from advref import _json as strict_json
from advref.data_loaders.console import STDERR
from advref.reproduce import reproduce
from advref.reproduce.jobs import RUNS
from advref.reproduce.profiles import PROFILES, get_profile
from advref.reproduce.report import caveat, fmt
from advref.reproduce.runner import WorkerDied, train_models


def register(sub):
    p = sub.add_parser("reproduce", help="run the paper's MNIST experiments and benchmarks",
                       description="Train (or load from DIR/models) every model the paper's "
                                   "MNIST experiments need, run them and the lecture's three "
                                   "benchmarks, and write DIR/results.json and "
                                   "DIR/results.md (and PNG figures when matplotlib is "
                                   "installed). Rerunning resumes: finished models are reused.")
    p.add_argument("--profile", choices=sorted(PROFILES),
                   help="sample (bundled data, ~1 min), quick (full MNIST, <15 min) or paper "
                        "(published recipes, hours); default quick if MNIST is found, "
                        "else sample")
    p.add_argument("--out", default="advref-results", help="output folder (advref-results)")
    p.add_argument("--seed", type=int, default=0, help="seed of every model and draw (0)")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                   help="train models in N processes with one BLAS thread each (default: "
                        "the core count; on 2 cores two one-thread jobs trained 1.28-1.42x "
                        "the updates/s of one two-thread job, benchmarks/bench_jobs.py)")
    p.add_argument("--only", nargs="+", metavar="EXPERIMENT",
                   help="run only these experiments (and train only the models they "
                        f"need); the experiments: {', '.join(RUNS)} (big_maxout and "
                        "adv_grad_eval in the paper profile only)")
    p.add_argument("--skip", nargs="+", metavar="EXPERIMENT",
                   help="skip these experiments (names as for --only)")
    p.add_argument("--plan", action="store_true",
                   help="print every job (model trainings, experiments) as a shell command "
                        "with its cache key and estimated cost, then exit")
    p.add_argument("--no-probe", action="store_true",
                   help="with --plan, skip the throughput probe (no cost estimates)")
    p.add_argument("--train", nargs="+", metavar="MODEL",
                   help="only train (or resume) these models into DIR/models, then exit: "
                        "one job per model, e.g. for separate processes or a cluster")
    p.add_argument("--json", action="store_true", help="print results.json to stdout")
    p.set_defaults(run=run)


def print_plan(args) -> int:
    from advref.reproduce.jobs import format_plan, plan, select
    from advref.reproduce.runner import default_profile, make_context

    profile = get_profile(args.profile or default_profile())
    chosen = select(args.only, args.skip, profile)
    ctx = make_context(profile, Path(args.out), args.seed, log=None)
    command = ["advref", "reproduce", "--profile", profile["name"], "--out", str(args.out),
               "--seed", str(args.seed)]
    jobs = plan(ctx.cache, ctx.data_for, chosen, command=command, probe=not args.no_probe,
                log=STDERR)
    if args.json:
        print(strict_json.dumps(jobs, indent=2))
    else:
        print(format_plan(jobs))
    return 0


MAX_JOBS = 1024        # far above any useful count; refused before a process pool is made


def run(args) -> int:
    if not 1 <= args.jobs <= MAX_JOBS:
        raise ValueError(f"--jobs must be between 1 and {MAX_JOBS} processes, got {args.jobs} "
                         "instead.")
    if args.seed < 0:
        raise ValueError(f"--seed must be >= 0, got {args.seed} instead.")
    if args.plan:
        return print_plan(args)
    if args.train:
        names = train_models(args.profile or "quick", args.out, args.train, seed=args.seed)
        print(f"trained {', '.join(names)} into {args.out}/models")
        return 0
    try:
        result = reproduce(args.profile, args.out, seed=args.seed, jobs=args.jobs,
                           only=args.only, skip=args.skip)
    except WorkerDied as err:
        print(f"advref reproduce: error: {err}", file=sys.stderr)
        return 1
    if args.json:
        print(strict_json.dumps(result, indent=2))
        return 0
    print(f"profile {result['profile']}: {len(result['rows'])} results in "
          f"{result['wall_seconds']:.0f} s; wrote {args.out}/results.md and results.json")
    if caveat(result):
        print(f"NOTE: {caveat(result)}")
    for r in result["rows"]:                  # labels whole: a cut label can mislead
        print(f"  {r['experiment']}, {r['quantity']}: paper {fmt(r['paper'], r['unit'])}, "
              f"measured {fmt(r['measured'], r['unit'])}")
    return 0
