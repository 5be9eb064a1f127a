"""Helpers shared by the commands that attack saved models."""

from __future__ import annotations

import numpy as np

from advref import _json as strict_json
from advref import models
from advref.datasets import DATA_CHOICES, default_data, load_data


def load_model(path):
    """(model, description): the file, the SHA-256 of its parameters and config
    (models.params_digest: equal for bit-identical models, whatever metadata such
    as timings the file also holds), its class and the data it was trained on."""
    model, extra = models.load(path, with_extra=True)
    return model, {"file": str(path), "sha256": models.params_digest(model),
                   "class": type(model).__name__, "trained_on": extra.get("data"),
                   "extra": extra}


def add_data_arguments(p, n_default=None, what="test"):
    p.add_argument("--data", choices=DATA_CHOICES,
                   help=f"{what} data (default: what the model was trained on)")
    p.add_argument("--n", type=int, default=n_default,
                   help=f"use the first N {what} examples (default: "
                   f"{'all' if n_default is None else n_default})")
    p.add_argument("--seed", type=int, default=0, help="seed for any random draw")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")


def _data(args, model, description):
    """(data name, x_train, y_train, x_test, y_test) of --data (default: what the model
    was trained on), in the model's dtype, with its class count checked."""
    data = args.data or description["trained_on"] or default_data(model.n_classes == 2)
    *arrays, n_classes = load_data(data, model.dtype)
    if n_classes != model.n_classes:
        raise ValueError(f"the model has {model.n_classes} classes, --data {data} has "
                         f"{n_classes}.")
    if args.n is not None and args.n < 1:
        raise ValueError(f"--n must be >= 1, got {args.n} instead.")
    return (data, *arrays)


def test_data(args, model, description):
    """(x, y, data name): the first --n test examples for the model."""
    data, _, _, x, y = _data(args, model, description)
    return x[:args.n], y[:args.n], data


def training_data(args, model, description):
    """(x_train[:n], data name): the first --n training images of --data."""
    data, x, _, _, _ = _data(args, model, description)
    return x[:args.n], data


def emit(args, result, lines):
    """Print JSON, or the text lines followed by the reproduction parameters."""
    if args.json:
        print(strict_json.dumps(result, indent=2))
        return
    for line in lines:
        print(line)
    params = {k: v for k, v in result.items() if k in ("method", "eps", "norm", "clip",
                                                         "targeted", "target", "seed", "data",
                                                         "n", "source", "settings")}
    print("reproduce with: " + strict_json.dumps(params))
    for m in result.get("models", [result.get("model")]):
        if m:
            print(f"  model {m['file']} sha256 {m['sha256']} ({m['class']})")


def norm_arg(text):
    return np.inf if text == "inf" else int(text)


def model_command(sub, name, run, help, description, model_metavar="MODEL.npz",
                  n_default=None, data_role="test", **defaults):
    """A subcommand taking a model file, with the shared data arguments."""
    p = sub.add_parser(name, help=help, description=description)
    p.add_argument("model_file", metavar=model_metavar, help="a model saved by advref train")
    add_data_arguments(p, n_default, data_role)
    p.set_defaults(run=run, **defaults)
    return p
