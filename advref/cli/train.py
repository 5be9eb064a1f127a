"""`advref train MODEL --out FILE.npz`: train a recipe (optionally with a defence)."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

from advref import _json as strict_json
from advref import models
from advref._blas_threads import numpy_blas, numpy_blas_threads
from advref._validation import check_eps
from advref.analysis.metrics import error_rate
from advref.attacks.fast_gradient import fgsm
from advref.cli.parser import Terminated
from advref.cli.train_setup import balanced_labels, choose_objective, decay_settings
from advref.data_loaders import train_valid_split
from advref.data_loaders.files import check_writable_target
from advref.datasets import DATA_CHOICES, default_data, load_data
from advref.fitting.fit import RunFiles, fit
from advref.fitting.recipes import RECIPES, get_recipe, sample_epochs
from advref.fitting.spec import Monitor, TrainSpec, array_digest
from advref.training.objectives import ADV_GRADS
from advref.training.second_stage import RULES

SAMPLE_IRANGE = 0.05            # as the sample profile (advref.reproduce.profiles)
SAMPLE_DATA = ("sample", "binary37-sample")


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during training; its message says where the checkpoint is."""


def register(sub):
    p = sub.add_parser("train", help="train a model recipe and save it",
                       description="Train a named recipe (advref.fitting.recipes), "
                                   "optionally with a "
                                   "defence; print the final train/valid/test error, the FGSM "
                                   "error and the time, and save the model.")
    p.add_argument("model", choices=sorted(RECIPES), metavar="MODEL",
                   help=f"recipe: {', '.join(sorted(RECIPES))}")
    p.add_argument("--data", choices=DATA_CHOICES,
                   help="training data (default: mnist if found, else the bundled sample; "
                        "binary37 for logistic)")
    p.add_argument("--epochs", type=int, help="maximum epochs (default: the recipe's; on "
                   "the bundled sample, the sample profile's: maxout 12, softmax 20, ...)")
    p.add_argument("--patience", type=int, help="early-stopping patience in epochs")
    p.add_argument("--seed", type=int, default=0, help="seed for init, shuffling and dropout")
    p.add_argument("--irange", type=float, help="maxout recipes: weights start "
                   "uniform(-IRANGE, IRANGE) (recipe .005; .05 on --data sample)")
    p.add_argument("--dtype", choices=("float32", "float64"), default="float32",
                   help="parameter and data dtype (float32)")
    p.add_argument("--out", required=True, help="where to save the model (.npz); the run "
                   "checkpoints to OUT.ckpt.npz (OUT.stage1/2.ckpt.npz with --stage2)")
    p.add_argument("--resume", action="store_true",
                   help="continue a killed or interrupted run from its checkpoint")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    d = p.add_argument_group("defences")
    d.add_argument("--adversarial", action="store_true",
                   help="adversarial training: alpha J(x) + (1 - alpha) J(x_adv)")
    d.add_argument("--eps", type=float, default=0.25, help="eps of adversarial training, noise "
                   "and the adversarial monitor (default .25)")
    d.add_argument("--alpha", type=float, default=0.5, help="weight of the clean loss (.5)")
    d.add_argument("--adv-grad", choices=ADV_GRADS, help="with --adversarial: take x_adv's "
                   "gradient in evaluation mode (eval, the default: no dropout) or from the "
                   "training loss under a dropout mask of its own (train: the reproduction's "
                   "hypothesis of the paper's runs, docs/results-paper.md)")
    d.add_argument("--monitor", choices=("clean", "adversarial"), default="clean",
                   help="validation error that early stopping watches")
    d.add_argument("--no-clip", action="store_true", help="do not clip the adversarial or "
                   "noisy training examples, the adversarial monitor's examples and the "
                   "reported FGSM examples to [0, 1], as the paper did (paper-notes section 1)")
    d.add_argument("--noise", choices=("sign", "uniform"),
                   help="control: train on +-eps sign noise or U(-eps, eps) noise instead")
    d.add_argument("--l1", type=float, help="L1 weight decay coefficient")
    d.add_argument("--l2", type=float, help="L2 weight decay coefficient")
    d.add_argument("--l1-layers", type=int, nargs="+", help="layers the L1 decay acts on "
                   "(indices into the model's weight matrices; default: all)")
    d.add_argument("--l2-layers", type=int, nargs="+", help="layers the L2 decay acts on "
                   "(default: all)")
    d.add_argument("--vat", action="store_true", help="virtual adversarial training")
    d.add_argument("--vat-eps", type=float, default=2.0, help="L2 radius of VAT (2.0)")
    d.add_argument("--labels", type=int, help="keep only this many labelled training "
                   "examples (balanced); with --vat the rest are used unlabelled")
    d.add_argument("--stage2", action="store_true", help="after early stopping, a second "
                   "stage on train + validation, by the recipe's rule "
                   "(advref.training.second_stage)")
    d.add_argument("--stage2-rule", choices=RULES, help="override the recipe's second-stage "
                   "rule: continue from the best model until the validation objective reaches "
                   "the training objective, or retrain for the chosen number of epochs")
    p.set_defaults(run=run)


def run(args) -> int:
    check_writable_target(args.out, "--out")
    if args.alpha != 0.5 and not (args.adversarial or args.noise):
        raise ValueError(f"--alpha weighs the clean loss of --adversarial or --noise, got "
                         f"--alpha {args.alpha} without either instead.")
    if args.adv_grad is not None and not args.adversarial:
        raise ValueError(f"--adv-grad chooses how --adversarial makes x_adv, got --adv-grad "
                         f"{args.adv_grad} without --adversarial instead.")
    if args.seed < 0:
        raise ValueError(f"--seed must be >= 0, got {args.seed} instead.")
    for flag, value in (("--eps", args.eps), ("--vat-eps", args.vat_eps)):
        check_eps(value, flag)             # before training, not at the FGSM report after it
    recipe = get_recipe(args.model)
    data = args.data or default_data(recipe.binary)
    if args.irange is not None:
        if "irange" not in recipe.model:
            raise ValueError(f"--irange sets the uniform init of the maxout recipes, got it "
                             f"with {args.model} instead.")
        recipe = recipe.with_model(irange=args.irange)
    elif "irange" in recipe.model and data == "sample":
        # On 2,000 images (20 updates an epoch instead of 500) the recipe's
        # uniform(-.005, .005) init sits on its initial plateau for hundreds of epochs;
        # the sample profile starts at uniform(-.05, .05), as here, and says so.
        recipe = recipe.with_model(irange=SAMPLE_IRANGE)
        print(f"--data sample: maxout weights start uniform(-{SAMPLE_IRANGE}, "
              f"{SAMPLE_IRANGE}) instead of the recipe's (-.005, .005), which stays at "
              "chance on 2,000 images for a short run (set --irange to choose)",
              file=sys.stderr)
    if recipe.binary != data.startswith("binary37"):
        raise ValueError(f"{args.model} needs {'binary' if recipe.binary else '10-class'} "
                         f"data, got --data {data} instead.")
    dtype = np.dtype(args.dtype)
    x_all, y_all, x_test, y_test, n_classes = load_data(data, dtype)
    n_valid = min(recipe.n_valid, len(x_all) // 5)
    x_tr, y_tr, x_va, y_va = train_valid_split(x_all, y_all, n_valid)
    box = None if args.no_clip else (0.0, 1.0)
    x_unlabelled = None
    if args.labels is not None:
        keep = balanced_labels(y_tr, args.labels, n_classes)
        if args.vat:
            x_unlabelled = np.delete(x_tr, keep, axis=0)
        x_tr, y_tr = x_tr[keep], y_tr[keep]
    settings = dict(recipe.train)
    if args.epochs is None and data in SAMPLE_DATA:
        settings["epochs"] = sample_epochs(args.model)
        print(f"--data {data}: at most {settings['epochs']} epochs, as the sample profile "
              f"(the recipe's {recipe.train['epochs']} are for full MNIST; set --epochs to "
              "choose)", file=sys.stderr)
    settings.update({k: v for k, v in (("epochs", args.epochs), ("patience", args.patience))
                     if v is not None})
    weight_names = recipe.build(x_all.shape[1], n_classes, rng=args.seed, dtype=dtype,
                                x=x_tr, y=y_tr).weight_names
    rule = (args.stage2_rule or recipe.second_stage) if args.stage2 else None
    spec = TrainSpec(recipe, settings, choose_objective(args, box, x_unlabelled),
                     Monitor(args.monitor, eps=args.eps, clip=box),
                     decay=decay_settings(args, weight_names), data=data,
                     data_sha256=array_digest(x_tr, y_tr), seed=args.seed, dtype=dtype.name,
                     stage2=rule, labels=args.labels, scheme="train")
    prefix = f"{args.out}.ckpt" if not args.stage2 else str(args.out)
    ckpts = ([f"{prefix}.npz"] if not args.stage2 else
             [f"{prefix}.stage{k}.ckpt.npz" for k in (1, 2)])
    if not args.resume:
        for c in ckpts:
            if os.path.exists(c):
                raise ValueError(f"a checkpoint of an earlier run exists at {c}: pass --resume "
                                 "to continue it, or remove it to start afresh.")
    start = time.perf_counter()
    try:
        done = fit(spec, x_tr, y_tr, x_va, y_va, n_classes, files=RunFiles(*ckpts),
                   x_unlabelled=x_unlabelled)
    except KeyboardInterrupt as err:
        saved = [c for c in ckpts if os.path.exists(c)]
        where = (f"checkpoint {saved[-1]}" if saved else "no checkpoint yet")
        argv = [a for a in sys.argv[1:] if a != "--resume"]
        kind = type(err) if isinstance(err, Terminated) else TrainingInterrupted
        what = "terminated" if kind is Terminated else "interrupted"
        raise kind(f"{what}; {where}; resume with: advref {' '.join(argv)} --resume") from None
    model, history, stage2 = done.model, done.stage1, done.stage2
    objective_name = spec.objective.label()
    fgsm_error = error_rate(model, fgsm(model, x_test, args.eps, y=y_test, clip=box), y_test)
    settings = {**settings, **spec.decay, "monitor": args.monitor, "monitor_eps": args.eps}
    result = {"model": args.model, "data": data, "seed": args.seed, "dtype": dtype.name,
              "objective": objective_name, "monitor": args.monitor,
              "adv_grad": (args.adv_grad or "eval") if args.adversarial else None,
              "epochs_run": len(history.epochs), "best_epoch": history.best_epoch,
              # stage 1's monitored validation error, epoch by epoch (what early stopping saw)
              "valid_error_curve": [e.get("valid_error") for e in history.epochs],
              "second_stage": rule,
              "stage2_epochs": len(stage2.epochs) if stage2 else None,
              "train_error": error_rate(model, x_tr, y_tr),
              # after a second stage the validation examples were trained on: report
              # stage 1's best validation error, measured before that
              "valid_error": (history.best_valid_error if stage2 else
                              error_rate(model, x_va, y_va)),
              "test_error": error_rate(model, x_test, y_test),
              "test_fgsm_error": fgsm_error, "fgsm_eps": args.eps,
              # the box of the training, monitor and reported FGSM examples
              "clip": list(box) if box else None,
              "seconds": time.perf_counter() - start, "recipe": recipe.key_dict(),
              # float32 sums follow it, so the same seed matches only at the same count
              "blas_threads": numpy_blas_threads(),
              # the kernel orders them too, and differs from CPU to CPU
              "blas": numpy_blas(),
              "settings": {k: v for k, v in settings.items() if k != "monitor"}}
    models.save(model, args.out, extra=result)
    for c in ckpts:
        Path(c).unlink(missing_ok=True)
    if args.json:
        print(strict_json.dumps(result, indent=2))
    else:
        print(f"{args.model} on {data} ({dtype.name}, seed {args.seed}, {objective_name}): "
              f"{result['epochs_run']} epochs (best {result['best_epoch']}"
              + (f", then {result['stage2_epochs']} on all by the {rule} rule"
                 if stage2 else "")
              + f") in {result['seconds']:.1f} s")
        print(f"  train error {result['train_error']:.2%}  "
              f"{'stage-1 best valid' if stage2 else 'valid'} error "
              f"{result['valid_error']:.2%}  test error {result['test_error']:.2%}  "
              f"FGSM (eps {args.eps}{', unclipped' if box is None else ''}) test error "
              f"{fgsm_error:.2%}")
        print(f"  saved to {args.out}")
    return 0
