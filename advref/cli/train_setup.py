"""What `advref train`'s options ask for: the objective, the labelled subset and the
weight decay."""

from __future__ import annotations

import numpy as np

from advref.fitting.spec import Objective


def choose_objective(args, box, x_unlabelled=None) -> Objective:
    """The run's Objective from --adversarial, --noise and --vat (one at most)."""
    chosen = [name for name, on in (("--adversarial", args.adversarial),
                                    ("--noise", args.noise), ("--vat", args.vat)) if on]
    if len(chosen) > 1:
        raise ValueError(f"choose one training objective, got {' and '.join(chosen)} instead.")
    if args.adversarial:
        return Objective("adversarial", eps=args.eps, alpha=args.alpha, clip=box,
                         adv_grad=args.adv_grad or "eval")
    if args.noise:
        return Objective(f"noise-{args.noise}", eps=args.eps, alpha=args.alpha, clip=box)
    if args.vat:
        return Objective("vat", eps=args.vat_eps, clip=box,
                         unlabelled=None if x_unlabelled is None else len(x_unlabelled))
    return Objective(clip=box)


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
