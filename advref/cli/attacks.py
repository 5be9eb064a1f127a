"""`advref attack | minimal | rubbish | transfer`: the attacks on saved models."""

from __future__ import annotations

import numpy as np

from advref.analysis.metrics import evaluate
from advref.analysis.transferability import transfer
from advref.attacks.fast_gradient import fgsm
from advref.attacks.iterative import (
    iterative_fgsm,
    iterative_settings,
    random_step_fgsm,
    random_step_settings,
)
from advref.attacks.rubbish import (
    SOURCES,
    check_rubbish_memory,
    rubbish_report,
    rubbish_samples,
    rubbish_step,
)
from advref.cli import minimal
from advref.cli._common import (
    emit,
    load_model,
    model_command,
    norm_arg,
    test_data,
    training_data,
)
from advref.cli.examples_file import add_save_argument, check_save_target, save_examples
from advref.cli.minimal import CLIP

METHODS = {"fgsm": fgsm, "iterative": iterative_fgsm, "r+fgsm": random_step_fgsm}
VARIANT_FLAGS = {"--steps": "iterative", "--step-size": "iterative", "--random-start": "iterative",
                 "--alpha": "r+fgsm"}


def register(sub):
    p = model_command(sub, "attack", run_attack,
                      "fast gradient method error rate of a saved model",
                      "Error and confidence of MODEL on its test data perturbed by the fast "
                      "gradient method or one of its variants (clipped to [0, 1] unless "
                      "--no-clip).")
    p.add_argument("--eps", type=float, default=0.25, help="perturbation size (default .25)")
    p.add_argument("--norm", type=norm_arg, default=np.inf, choices=[np.inf, 2, 1],
                   help="inf (sign method), 2 or 1; the variants are inf only")
    p.add_argument("--targeted", type=int, metavar="CLASS", help="move toward CLASS")
    add_save_argument(p)
    p.add_argument("--labels", choices=("true", "predicted"), default="true",
                   help="untargeted: ascend the loss of the true labels (the paper's) or of "
                        "the model's own predictions (no label information in x_adv: "
                        "Kurakin et al.'s label leaking); errors are always against the true "
                        "labels")
    p.add_argument("--method", choices=METHODS, default="fgsm",
                   help="fgsm (one step, the paper's), iterative (the basic iterative method; "
                        "with --random-start, PGD) or r+fgsm (a random sign step of --alpha, "
                        "then FGSM of eps - alpha)")
    p.add_argument("--steps", type=int, help="iterative: number of steps (10)")
    p.add_argument("--step-size", type=float,
                   help="iterative: size of each sign step (default 2.5 eps / steps)")
    p.add_argument("--random-start", action="store_true",
                   help="iterative: start from a uniform draw in the eps ball (uses --seed)")
    p.add_argument("--alpha", type=float, help="r+fgsm: size of the random step (eps / 2)")
    add_no_clip(p)

    minimal.register(sub)      # listed in this order in --help

    p = model_command(sub, "rubbish", run_rubbish, "rubbish-class (fooling) samples",
                      "Rate at which any class gets probability > .5 on samples of no class; "
                      "with --eps and --target, after one FGSM step toward the target. The "
                      "Gaussian is fitted to the first --n training images of --data.",
                      data_role="training")
    add_save_argument(p)
    p.add_argument("--source", choices=SOURCES, default="gaussian-fit",
                   help="gaussian-fit: a diagonal Gaussian, each pixel's mean and variance "
                        "fitted to the training images; standard-normal: N(0, I)")
    p.add_argument("--samples", type=int, default=10_000, help="rubbish samples (10,000)")
    p.add_argument("--eps", type=float, help="size of one FGSM step toward --target")
    p.add_argument("--target", type=int, help="class the step moves toward")

    p = model_command(sub, "transfer", run_transfer,
                      "other models' error on one model's FGSM examples",
                      "Each TARGET's error on SOURCE's FGSM examples, and how often it picks "
                      "SOURCE's wrong class.", model_metavar="SOURCE.npz")
    p.add_argument("targets", nargs="+", metavar="TARGET.npz", help="models to transfer to")
    p.add_argument("--eps", type=float, default=0.25, help="FGSM eps on SOURCE (default .25)")
    add_no_clip(p)


def add_no_clip(p):
    p.add_argument("--no-clip", action="store_true",
                   help="do not clip the adversarial examples to [0, 1] (the paper's numbers "
                        "are unclipped)")


def run_attack(args):
    settings = method_settings(args)            # before any file is read
    check_save_target(args)
    targeted = args.targeted is not None
    if targeted and args.labels != "true":
        raise ValueError(f"--labels chooses whose loss an untargeted attack ascends, got "
                         f"--labels {args.labels} with --targeted {args.targeted} instead.")
    model, desc = load_model(args.model_file)
    x, y, data = test_data(args, model, desc)
    labels = np.full(len(x), args.targeted) if targeted else \
        (y if args.labels == "true" else model.predict(x))
    box = None if args.no_clip else CLIP
    x_adv = METHODS[args.method](model, x, args.eps, y=labels, targeted=targeted, clip=box,
                                 **settings)
    result = {"model": desc, "data": data, "n": len(x), "eps": args.eps, "norm": args.norm,
              "clip": box, "targeted": args.targeted,
              "labels": "target class" if targeted else f"{args.labels} labels",
              "method": args.method, "settings": settings,
              "clean": evaluate(model, x, y), "adversarial": evaluate(model, x_adv, y)}
    if targeted:
        result["target_rate"] = float(np.mean(model.predict(x_adv) == args.targeted))
    save_examples(args, {"x": x, "x_adv": x_adv, "y": y, "pred": model.predict(x),
                         "pred_adv": model.predict(x_adv)}, result)
    c, a = result["clean"], result["adversarial"]
    lines = [f"clean error {c['error']:.2%} (confidence {c['mean_confidence']:.1%})",
             f"{args.method} error {a['error']:.2%} (confidence on mistakes "
             f"{a['mean_confidence_on_mistakes']:.1%})"]
    if targeted:
        lines.append(f"reached class {args.targeted}: {result['target_rate']:.2%}")
    emit(args, result, lines)


def method_settings(args):
    """The keyword arguments of --method, refusing the options of another method by name."""
    given = {"--steps": args.steps is not None, "--step-size": args.step_size is not None,
             "--random-start": args.random_start, "--alpha": args.alpha is not None}
    stray = [flag for flag, on in given.items() if on and VARIANT_FLAGS.get(flag) != args.method]
    if stray:
        raise ValueError("; ".join(f"{flag} belongs to --method {VARIANT_FLAGS[flag]}"
                                   for flag in stray) + f", not to --method {args.method}.")
    if args.method != "fgsm" and args.norm != np.inf:
        raise ValueError(f"--method {args.method} is an L_inf attack: --norm must be inf, got "
                         f"{args.norm} instead.")
    # the attack's own resolution of its defaults, so the output records the values used
    if args.method == "iterative":
        settings = iterative_settings(args.eps, 10 if args.steps is None else args.steps,
                                      args.step_size)
        return {**settings, "random_start": args.random_start, "rng": args.seed}
    if args.method == "r+fgsm":
        return {**random_step_settings(args.eps, args.alpha), "rng": args.seed}
    return {"norm": args.norm}


def run_rubbish(args):
    check_save_target(args)
    model, desc = load_model(args.model_file)
    if args.samples < 1:
        raise ValueError(f"--samples must be >= 1, got {args.samples} instead.")
    check_rubbish_memory(args.samples, model.n_features, model.dtype, "--samples")
    if args.source == "gaussian-fit":
        x_train, data = training_data(args, model, desc)
        fit_on = f"{data} training images ({len(x_train)})"
    else:
        x_train, fit_on = np.zeros((1, model.n_features), model.dtype), None
    samples = rubbish_samples(args.samples, source=args.source, x_train=x_train, rng=args.seed)
    report = rubbish_report(model, samples, eps=args.eps, target=args.target)
    result = {"model": desc, "source": args.source, "fit_on": fit_on, "seed": args.seed,
              "eps": args.eps, "target": args.target, **report}
    arrays = {"samples": samples, "pred": model.predict(samples)}
    if args.eps is not None and args.save_examples is not None:
        arrays["stepped"] = rubbish_step(model, samples, args.eps, args.target)
        arrays["pred_stepped"] = model.predict(arrays["stepped"])
    save_examples(args, arrays, result)
    conf = report["mean_confidence_fooled"]
    conf_text = "none fooled" if np.isnan(conf) else f"mean confidence {conf:.1%}"
    lines = [f"any class p > .5: {report['fooled_rate']:.2%} of {report['n']} ({conf_text}); "
             f"classes {report['class_histogram']}"]
    if args.eps is not None:
        lines.append(f"after one step toward {args.target} (eps {args.eps}): reached "
                     f"{report['target_rate']:.2%}; any class p > .5: "
                     f"{report['after_step']['fooled_rate']:.2%}")
    emit(args, result, lines)


def run_transfer(args):
    source, sdesc = load_model(args.model_file)
    x, y, data = test_data(args, source, sdesc)
    loaded = [load_model(path) for path in args.targets]
    targets = {desc["file"]: model for model, desc in loaded}
    box = None if args.no_clip else CLIP
    out = transfer(source, targets, x, y, args.eps, clip=box)
    result = {"models": [sdesc] + [d for _, d in loaded], "data": data, "n": len(x),
              "eps": args.eps, "norm": np.inf, "clip": box, **out}
    lines = [f"source {args.model_file}: FGSM error {out['source_error']:.2%}"]
    for name, t in out["targets"].items():
        lines.append(f"  {name}: error {t['error']:.2%}; same wrong class as source on its "
                     f"mistakes {t['same_class_on_source_mistakes']:.1%}, on both wrong "
                     f"{t['same_class_on_both_wrong']:.1%}")
    emit(args, result, lines)
