"""Named training recipes: model and optimiser hyperparameters as plain data.

`maxout_mnist_pi` is the published recipe (pylearn2 mnist_pi.yaml, the paper's
baseline); the others are this project's choices for models the paper trains
but does not specify. Each recipe is a dict:
    {"model": {"class": ..., constructor arguments},
     "train": {keyword arguments of advref.training.sgd.train},
     "n_valid": validation examples held out of the end of the training set,
     "second_stage": the rule of a second stage on all the data (advref.training.second_stage)}

`get_recipe(name)` returns them as a frozen `Recipe`, which also states the data
kind it trains on (`binary`: the logistic recipe's 3-vs-7 data) and builds its
model by class name. Recipes live here, beside the command line and the
experiments, so advref.training depends on the model protocol alone.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace

import numpy as np


def maxout_mnist_pi(units=240, output="softmax"):
    """784 -> maxout(units x 5) x 2 -> softmax; dropout, max-norm 1.9365; SGD batch 100,
    lr .1 / 1.000004 per update (floor 1e-6), momentum .5 -> .7 over epochs 1..250,
    early stopping after 100 epochs without improvement on 50k/10k."""
    return {
        "model": {"class": "MaxoutMLP", "units": [units, units], "pieces": 5,
                  "include_probs": [0.8, 0.5, 0.5], "scales": [1.0, 2.0, 2.0],
                  "max_col_norm": 1.9365, "irange": 0.005,
                  **({} if output == "softmax" else {"output": output})},
        "train": {"epochs": 1000, "batch_size": 100, "lr": 0.1, "lr_decay": 1.000004,
                  "lr_min": 1e-6, "momentum": 0.5, "final_momentum": 0.7,
                  "momentum_start": 1, "momentum_saturate": 250, "patience": 100},
        "n_valid": 10_000,
        # the 240-unit recipe continues (mnist_pi_continued.yaml); the paper's
        # 1600-unit models are retrained on all 60k (advref.training.second_stage)
        "second_stage": "continue" if units == 240 else "retrain",
    }


def softmax_mnist():
    return {"model": {"class": "SoftmaxRegression"},
            "train": {"epochs": 30, "batch_size": 100, "lr": 0.1, "momentum": 0.5,
                      "patience": 5},
            "n_valid": 10_000, "second_stage": "retrain"}


def logistic_37():
    return {"model": {"class": "LogisticRegression"},
            "train": {"epochs": 30, "batch_size": 100, "lr": 0.1, "momentum": 0.5,
                      "patience": 5},
            "n_valid": 2_000, "second_stage": "retrain"}


def mlp_mnist(activation="relu"):
    return {"model": {"class": "MLP", "hidden": [800, 800], "activation": activation},
            "train": {"epochs": 30, "batch_size": 100, "lr": 0.05, "lr_decay": 1.00001,
                      "lr_min": 1e-4, "momentum": 0.9, "patience": 5},
            "n_valid": 10_000, "second_stage": "retrain"}


def rbf_mnist():
    """Centres start at the class means (RBFNetwork.init_centers), widths 3/sqrt(d)."""
    return {"model": {"class": "RBFNetwork", "init_centers": True, "gamma_scale": 3.0},
            "train": {"epochs": 30, "batch_size": 100, "lr": 0.05, "momentum": 0.9,
                      "patience": 5},
            "n_valid": 10_000, "second_stage": "retrain"}


RECIPES = {
    "logistic": logistic_37,
    "softmax": softmax_mnist,
    "maxout": maxout_mnist_pi,
    "maxout1600": lambda: maxout_mnist_pi(units=1600),
    # the paper's rubbish-class variant: the same recipe, independent sigmoid outputs
    "maxout-sigmoid": lambda: maxout_mnist_pi(output="sigmoid-ovr"),
    "relu": lambda: mlp_mnist("relu"),
    "tanh": lambda: mlp_mnist("tanh"),
    "rbf": rbf_mnist,
}


BINARY = frozenset({"logistic"})      # recipes trained on the 3-vs-7 data

# Epoch caps for the bundled 2,000-image sample, by recipe family: the sample
# profile's (advref.reproduce.profiles), and `advref train --data sample`'s default.
SAMPLE_EPOCHS = {"softmax": 20, "logistic": 20, "maxout": 12, "mlp": 6, "rbf": 20}
FAMILY = {"logistic": "logistic", "softmax": "softmax", "maxout": "maxout",
          "maxout1600": "maxout", "maxout-sigmoid": "maxout", "relu": "mlp", "tanh": "mlp",
          "rbf": "rbf"}


def sample_epochs(recipe_name: str) -> int:
    """The sample's epoch cap for a recipe: a minute's run instead of the recipe's
    full-MNIST cap."""
    return SAMPLE_EPOCHS[FAMILY[recipe_name]]


@dataclass(frozen=True)
class Recipe:
    """A named recipe: model arguments, trainer settings, validation size, the
    second stage's rule, and the data kind."""

    name: str
    model: dict = field(compare=False)
    train: dict = field(compare=False)
    n_valid: int = 10_000
    second_stage: str = "retrain"
    binary: bool = False

    def key_dict(self) -> dict:
        """The recipe as the cache key hashes it (the dict form of earlier releases)."""
        return {"model": copy.deepcopy(self.model), "train": copy.deepcopy(self.train),
                "n_valid": self.n_valid, "second_stage": self.second_stage}

    def with_model(self, **changes):
        return replace(self, model={**self.model, **changes})

    def with_train(self, **changes):
        return replace(self, train={**self.train, **changes})

    def build(self, n_features, n_classes, *, rng=0, dtype=np.float64, x=None, y=None):
        return build_model(self.model, n_features, n_classes, rng=rng, dtype=dtype, x=x, y=y)


def get_recipe(name) -> Recipe:
    if name not in RECIPES:
        raise ValueError(f"recipe must be one of {sorted(RECIPES)}, got {name!r} instead.")
    d = copy.deepcopy(RECIPES[name]())
    return Recipe(name, d["model"], d["train"], d["n_valid"], d["second_stage"],
                  name in BINARY)


def build_model(spec, n_features, n_classes, *, rng=0, dtype=np.float64, x=None, y=None):
    """A model from a recipe's "model" entry; data-driven inits use (x, y)."""
    from advref.models import model_classes

    spec = dict(spec)
    cls = model_classes()[spec.pop("class")]
    init_centers, gamma_scale = spec.pop("init_centers", False), spec.pop("gamma_scale", None)
    if cls.__name__ != "LogisticRegression":
        spec["n_classes"] = n_classes
    model = cls(n_features, **spec, rng=rng, dtype=dtype)
    if init_centers:
        model.init_centers(x, y, gamma_scale=gamma_scale)
    return model
