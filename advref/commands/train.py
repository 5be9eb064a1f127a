"""`advref train MODEL --out FILE.npz`: train a recipe and report its errors."""

from __future__ import annotations

import json
import time

import numpy as np

import models
from advref.datasets import DATA_CHOICES, default_data, load_data
from advref.evaluate import error_rate
from advref.recipes import RECIPES, build_model, get_recipe
from advref.train import train
from data_loaders import train_valid_split


def register(sub):
    p = sub.add_parser("train", help="train a model recipe and save it",
                       description="Train a named recipe (advref.recipes), print the final "
                                   "train/valid/test error and time, and save the model.")
    p.add_argument("model", choices=sorted(RECIPES), metavar="MODEL",
                   help=f"recipe: {', '.join(sorted(RECIPES))}")
    p.add_argument("--data", choices=DATA_CHOICES,
                   help="training data (default: mnist if found, else the bundled sample; "
                        "binary37 for logistic)")
    p.add_argument("--epochs", type=int, help="maximum epochs (default: the recipe's)")
    p.add_argument("--patience", type=int, help="early-stopping patience in epochs")
    p.add_argument("--seed", type=int, default=0, help="seed for init, shuffling and dropout")
    p.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    p.add_argument("--out", required=True, help="where to save the model (.npz)")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(run=run)


def run(args) -> int:
    recipe = get_recipe(args.model)
    binary = recipe["model"]["class"] == "LogisticRegression"
    data = args.data or default_data(binary)
    if binary != data.startswith("binary37"):
        raise ValueError(f"{args.model} needs {'binary' if binary else '10-class'} data, got "
                         f"--data {data} instead.")
    dtype = np.dtype(args.dtype)
    x_all, y_all, x_test, y_test, n_classes = load_data(data, dtype)
    n_valid = min(recipe["n_valid"], len(x_all) // 5)
    x_tr, y_tr, x_va, y_va = train_valid_split(x_all, y_all, n_valid)
    settings = recipe["train"]
    if args.epochs is not None:
        settings["epochs"] = args.epochs
    if args.patience is not None:
        settings["patience"] = args.patience
    model = build_model(recipe["model"], x_all.shape[1], n_classes, rng=args.seed, dtype=dtype,
                        x=x_tr, y=y_tr)
    start = time.perf_counter()
    history = train(model, x_tr, y_tr, x_valid=x_va, y_valid=y_va, rng=args.seed, **settings)
    result = {"model": args.model, "data": data, "seed": args.seed, "dtype": dtype.name,
              "epochs_run": len(history.epochs), "best_epoch": history.best_epoch,
              "train_error": error_rate(model, x_tr, y_tr),
              "valid_error": error_rate(model, x_va, y_va),
              "test_error": error_rate(model, x_test, y_test),
              "seconds": time.perf_counter() - start, "recipe": recipe}
    models.save(model, args.out, extra=result)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"{args.model} on {data} ({dtype.name}, seed {args.seed}): "
              f"{result['epochs_run']} epochs (best {result['best_epoch']}) in "
              f"{result['seconds']:.1f} s")
        print(f"  train error {result['train_error']:.2%}  valid error "
              f"{result['valid_error']:.2%}  test error {result['test_error']:.2%}")
        print(f"  saved to {args.out}")
    return 0
