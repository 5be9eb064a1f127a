"""Train once, attack many times: models cached in DIR/models by a recipe digest.

The key is the SHA-256 of the canonical JSON of everything that determines the
trained parameters: model name, recipe, training variant, data name and a
digest of the training arrays, seed, dtype, epoch cap, patience, stage
scheme, and TRAINING_CODE: the revision of advref's own draws and layouts,
raised whenever the same seed would train different parameters. A rerun (or
a resume after an interruption) loads what is there; a change to any of these
trains anew. Saves are atomic (models.save).
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np

import models
from advref.objectives import adversarial, noise
from advref.recipes import build_model, get_recipe
from advref.train import train, train_two_stage

from .profiles import MODELS

# 1: first release; 2: piece-major maxout columns and bit-draw dropout masks.
TRAINING_CODE = 2


def array_digest(*arrays) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(str((a.shape, a.dtype.str)).encode())
        h.update(np.ascontiguousarray(a).data)
    return h.hexdigest()


def objective_of(variant):
    kind = variant.get("objective")
    if kind == "adversarial":
        return adversarial(eps=variant["eps"], alpha=variant["alpha"])
    if kind in ("noise-sign", "noise-uniform"):
        return noise(kind.split("-")[1], eps=variant["eps"], alpha=variant["alpha"])
    return None


class ModelCache:
    def __init__(self, folder, profile, seed, log=sys.stderr):
        self.folder = Path(folder) / "models"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.profile, self.seed, self.log = profile, seed, log
        self.loaded, self.trained, self.info = {}, [], {}

    def spec(self, name, data):
        recipe_name, family, variant = MODELS[name]
        recipe = get_recipe(recipe_name)
        settings = dict(recipe["train"])
        cap = self.profile["epochs"][family]
        if cap is not None:
            settings["epochs"] = min(settings["epochs"], cap)
        recipe["model"].update(self.profile["overrides"].get(family, {}))
        if self.profile["patience"] != "recipe":
            settings["patience"] = self.profile["patience"]
        return {"name": name, "recipe": recipe, "variant": variant, "settings": settings,
                "data": data.name, "data_sha256": data.digest, "seed": self.seed,
                "dtype": self.profile["dtype"], "two_stage": self.profile["two_stage"],
                "training_code": TRAINING_CODE}

    def get(self, name, data):
        if name in self.loaded:
            return self.loaded[name]
        spec = self.spec(name, data)
        key = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()
        path = self.folder / f"{name}-{key[:12]}.npz"
        if path.is_file():
            model, extra = models.load(path, with_extra=True)
            if self.log:
                print(f"[reproduce] {name}: loaded from cache {path.name}", file=self.log)
        else:
            model, extra = self.train(spec, data)
            models.save(model, path, extra=extra)
            self.trained.append(name)
        self.info[name] = {"file": str(path), "sha256": hashlib.sha256(path.read_bytes())
                           .hexdigest(), "epochs": extra["epochs"],
                           "best_epoch": extra["best_epoch"], "seconds": extra["seconds"],
                           "recipe": spec["recipe"]["model"], "variant": spec["variant"],
                           "settings": spec["settings"]}
        self.loaded[name] = model
        return model

    def train(self, spec, data):
        if self.log:
            print(f"[reproduce] {spec['name']}: training", file=self.log)
        x, y, xv, yv = data.split(spec["recipe"]["n_valid"])
        variant, settings = spec["variant"], dict(spec["settings"])
        objective = objective_of(variant)
        if objective is not None:
            settings["objective"] = objective
        if "monitor" in variant:
            settings.update(monitor=variant["monitor"], monitor_eps=variant["eps"])
        if "l1" in variant:
            settings["l1"] = variant["l1"]

        def make():
            return build_model(spec["recipe"]["model"], x.shape[1], data.n_classes,
                               rng=self.seed, dtype=np.dtype(spec["dtype"]), x=x, y=y)

        start = time.perf_counter()
        log = self.log
        if spec["two_stage"]:
            model, h1, h2 = train_two_stage(make, x, y, xv, yv, rng=self.seed, log=log,
                                            **settings)
            epochs = len(h1.epochs) + len(h2.epochs)
        else:
            model, h1 = make(), None
            h1 = train(model, x, y, x_valid=xv, y_valid=yv, rng=self.seed, log=log, **settings)
            epochs = len(h1.epochs)
        return model, {"epochs": epochs, "best_epoch": h1.best_epoch,
                       "seconds": time.perf_counter() - start, "spec": spec,
                       "train_error_curve": [e["train_error"] for e in h1.epochs],
                       "valid_error_curve": [e.get("valid_error") for e in h1.epochs]}
