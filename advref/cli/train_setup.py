"""What `advref train`'s options ask for: the objective, the labelled subset and the
weight decay."""

from __future__ import annotations

import numpy as np

from advref.training.objectives import objective_named


def choose_objective(args, box):
    chosen = [name for name, on in (("--adversarial", args.adversarial),
                                    ("--noise", args.noise), ("--vat", args.vat)) if on]
    if len(chosen) > 1:
        raise ValueError(f"choose one training objective, got {' and '.join(chosen)} instead.")
    unclipped = "" if box else ", unclipped"
    if args.adversarial:
        mode = args.adv_grad or "eval"
        # the eval name is the one earlier runs recorded (their checkpoints stay valid)
        how = "" if mode == "eval" else ", x_adv from the training loss (dropout)"
        return (objective_named("adversarial", eps=args.eps, alpha=args.alpha, clip=box,
                                adv_grad=mode),
                f"adversarial eps {args.eps} alpha {args.alpha}{unclipped}{how}")
    if args.noise:
        return (objective_named(f"noise-{args.noise}", eps=args.eps, alpha=args.alpha,
                                clip=box), f"{args.noise} noise eps {args.eps}{unclipped}")
    return None, "clean"


def balanced_labels(y, n, n_classes):
    """Indices of n labelled examples, n // n_classes per class (the first of each)."""
    if n < n_classes:
        raise ValueError(f"--labels must be at least the class count {n_classes}, got {n} "
                         "instead.")
    return np.sort(np.concatenate([np.flatnonzero(y == c)[:n // n_classes]
                                   for c in range(n_classes)]))


def layer_names(layers, weight_names, option):
    if layers is None:
        return list(weight_names)
    bad = [i for i in layers if not 0 <= i < len(weight_names)]
    if bad:
        raise ValueError(f"{option} must index the {len(weight_names)} weight matrices, got "
                         f"{bad} instead.")
    return [weight_names[i] for i in layers]


def decay_settings(args, weight_names):
    out = {}
    for key, value, layers in (("l1", args.l1, args.l1_layers), ("l2", args.l2, args.l2_layers)):
        if value:
            out[key] = dict.fromkeys(layer_names(layers, weight_names, f"--{key}-layers"), value)
    return out
