"""The three profiles of `advref reproduce` and the models each experiment needs.

    sample  the bundled 2,000/1,000 MNIST sample, short training: about a minute
    quick   full MNIST, shortened training: under 15 minutes on two cores
    paper   full MNIST, the published recipes (maxout: up to 1000 epochs with
            patience 100, then a second stage on all 60,000): hours

Every model is a recipe (advref.fitting.recipes) plus a training variant. `epochs`
caps each family's epochs in the shortened profiles; None keeps the recipe's.
`overrides` changes a family's model arguments: on the 2,000-image sample the
maxout recipe's uniform(-.005, .005) init sits on its initial plateau for
longer than a one-minute budget allows (20 updates an epoch instead of 500),
so the sample profile starts the maxout weights at uniform(-.05, .05).
`patience` None means no early stopping (the best epoch is still kept).
`train_clip` is the box that adversarial and noisy training examples are clipped
to: the shortened profiles clip to [0, 1] as libraries do; the paper profile
follows the paper's formulas, which clip nowhere (paper-notes section 1: a
240-unit maxout adversarially trained with clipping errs on 7.9% of clipped but
49.1% of unclipped FGSM examples).
`adv_grad` is how adversarial training takes x_adv's gradient (advref.training.
objectives): "eval" (no dropout) in the shortened profiles, whose models stay as
they were; "train" (the training loss with a dropout mask of its own) in the
paper profile, the reproduction's hypothesis of how the paper made x_adv
(docs/results-paper.md). A variant that names its own `adv_grad` keeps it.
"""

from __future__ import annotations

from advref.fitting.recipes import SAMPLE_EPOCHS, get_recipe

PROFILES = {
    "sample": {
        "data": "sample", "binary": "binary37-sample", "dtype": "float32",
        "epochs": SAMPLE_EPOCHS,
        "overrides": {"maxout": {"irange": 0.05}}, "patience": None, "two_stage": False,
        "train_clip": [0.0, 1.0], "adv_grad": "eval",
        "n_minimal": 10, "minimal_candidates": 2, "n_rubbish": 2000, "n_subspace": 20,
        "n_transfer_nn": None, "big_maxout": False,
        "ensemble_members": 3,
    },
    "quick": {
        "data": "mnist", "binary": "binary37", "dtype": "float32",
        "epochs": {"softmax": 15, "logistic": 15, "maxout": 8, "mlp": 4, "rbf": 10},
        "overrides": {}, "patience": 5, "two_stage": False, "train_clip": [0.0, 1.0],
        "adv_grad": "eval",
        "n_minimal": 1000, "minimal_candidates": 3, "n_rubbish": 10_000, "n_subspace": 100,
        "n_transfer_nn": 2000, "big_maxout": False,
        "ensemble_members": 3,
    },
    "paper": {
        "data": "mnist", "binary": "binary37", "dtype": "float32",
        "epochs": {"softmax": None, "logistic": None, "maxout": None, "mlp": None, "rbf": None},
        "overrides": {}, "patience": "recipe", "two_stage": True,
        "train_clip": None, "eval_clip": None, "adv_grad": "train",
        "n_minimal": None, "minimal_candidates": None, "n_rubbish": 10_000, "n_subspace": 1000,
        "n_transfer_nn": None, "big_maxout": True,
        "ensemble_members": 12,
    },
}

ADV = {"objective": "adversarial", "eps": 0.25, "alpha": 0.5, "monitor": "adversarial"}

# name -> (recipe, family for the epoch cap, training variant)
MODELS: dict[str, tuple[str, str, dict]] = {
    "softmax": ("softmax", "softmax", {}),
    "logistic": ("logistic", "logistic", {}),
    "maxout": ("maxout", "maxout", {}),
    "maxout-adv": ("maxout", "maxout", ADV),
    # the paper profile's labelled variant: x_adv from the evaluation-mode gradient
    "maxout-adv-eval": ("maxout", "maxout", dict(ADV, adv_grad="eval")),
    "maxout-sign-noise": ("maxout", "maxout", {"objective": "noise-sign", "eps": 0.25,
                                               "alpha": 0.5}),
    "maxout-uniform-noise": ("maxout", "maxout", {"objective": "noise-uniform", "eps": 0.25,
                                                  "alpha": 0.5}),
    "maxout-l1": ("maxout", "maxout", {"l1": {"W0": 0.0025}}),
    "maxout-sigmoid": ("maxout-sigmoid", "maxout", {}),
    "maxout1600": ("maxout1600", "maxout", {}),
    "maxout1600-adv": ("maxout1600", "maxout", ADV),
    **{f"maxout-member{i}": ("maxout", "maxout", {"member": i}) for i in range(1, 12)},
    "rbf": ("rbf", "rbf", {}),
    "relu": ("relu", "mlp", {}),
    "tanh": ("tanh", "mlp", {}),
}


def trains_on_binary(name) -> bool:
    """Whether model `name` trains on the binary 3-vs-7 data, as its recipe states."""
    return get_recipe(MODELS[name][0]).binary


def get_profile(name):
    if name not in PROFILES:
        raise ValueError(f"profile must be one of {sorted(PROFILES)}, got {name!r} instead.")
    return dict(PROFILES[name], name=name)
