"""`advref minimal`: the smallest misclassified perturbations of a saved model's
test images, by Szegedy's box-constrained L-BFGS search (advref.attacks.minimal)."""

from __future__ import annotations

import numpy as np

from advref._validation import require_scipy
from advref.attacks import minimal as minimal_module
from advref.attacks.minimal import minimal_perturbation
from advref.attacks.minimal_processes import MAX_PROCESSES, usable_cpus
from advref.cli._common import emit, load_model, model_command, test_data
from advref.cli.examples_file import add_save_argument, check_save_target, save_examples

CLIP = (0.0, 1.0)


def register(sub):
    p = model_command(sub, "minimal", run_minimal,
                      "smallest misclassified perturbations by L-BFGS-B",
                      "Szegedy's box-constrained L-BFGS search for the smallest L2 perturbation "
                      "classified as a target (or as any wrong class), on the first --n test "
                      "images.", n_default=20)
    add_save_argument(p)
    p.add_argument("--target", type=int, help="target class (default: untargeted)")
    p.add_argument("--batch", type=int, default=256, metavar="B",
                   help="searches run side by side, their model evaluations pooled "
                        "(default 256); the same searches and solver steps as one at a time")
    p.add_argument("--processes", type=int, metavar="P",
                   help="share the examples among P processes, each searching its share "
                        "batched with one BLAS thread (default: the CPUs this process may "
                        "use); other last bits than one process, the same searches")
    p.add_argument("--one-at-a-time", action="store_true",
                   help="solve one example at a time: the definition, several times slower")


def run_minimal(args):
    batch = None if args.one_at_a_time else args.batch
    processes = args.processes
    if processes is None:
        processes = 1 if batch is None else min(usable_cpus(), MAX_PROCESSES)
    elif not 1 <= processes <= MAX_PROCESSES:
        raise ValueError(f"--processes must be between 1 and {MAX_PROCESSES} processes, got "
                         f"{processes} instead.")
    elif batch is None and processes != 1:
        raise ValueError(f"--processes shares the batched search among processes and "
                         f"--one-at-a-time solves in this process: give one of them, got "
                         f"--processes {processes} with --one-at-a-time.")
    require_scipy("advref minimal")
    check_save_target(args)
    model, desc = load_model(args.model_file)
    x, y, data = test_data(args, model, desc)
    results = minimal_perturbation(model, x, target=args.target, y=y, clip=CLIP, batch=batch,
                                   processes=processes)
    # what ran: an older SciPy than the driven interface's solves one at a time (warned)
    used = batch if batch is None or minimal_module.reverse_communication_works() else None
    ok = [r for r in results if r.success]
    summary = {"model": desc, "data": data, "n": len(x), "target": args.target, "clip": CLIP,
               "batch": used, "batch_requested": batch,
               "processes": 1 if used is None else min(processes, len(x)),
               "settings": {k: v for k, v in results[0].settings.items()},
               "success_rate": len(ok) / len(results),
               "mean_l2": float(np.mean([r.l2 for r in ok])) if ok else float("nan"),
               "mean_linf": float(np.mean([r.linf for r in ok])) if ok else float("nan"),
               "mean_iterations": float(np.mean([r.iterations for r in results])),
               "examples": [r.summary() for r in results]}
    for e in summary["examples"]:
        e.pop("settings")
    save_examples(args, {"x": x, "x_adv": np.stack([r.x_adv for r in results]), "y": y,
                         "success": [r.success for r in results],
                         "l2": [r.l2 for r in results]}, summary)
    emit(args, summary, [f"success {summary['success_rate']:.1%} of {len(x)}; mean L2 "
                         f"{summary['mean_l2']:.4f}, mean L_inf {summary['mean_linf']:.4f}, "
                         f"mean optimizer iterations {summary['mean_iterations']:.0f}"])
