"""Train once, attack many times: models cached in DIR/models by a recipe digest.

The key is the SHA-256 of the canonical JSON of everything that determines the
trained parameters: model name, recipe, training variant, data name and a
digest of the training arrays, seed, dtype, epoch cap, patience, stage
scheme, and TRAINING_CODE: the revision of advref's own draws and layouts,
raised whenever the same seed would train different parameters. A rerun (or
a resume after an interruption) loads what is there; a change to any of these
trains anew. Saves are atomic (models.save). The key leaves out NumPy's BLAS
thread count, which orders float32 sums and so changes the parameters' last
bits: each trained model records the count of the process that finished it
(`blas_threads`, None where it cannot be read), and the results list it.

Training checkpoints into the same folder (advref.training.checkpoint), so a killed
run resumes inside a model: NAME-KEY.stage1.ckpt.npz, then, for two-stage
recipes, the finished stage 1 as NAME-KEY.stage1.npz and stage 2's
NAME-KEY.stage2.ckpt.npz. Every file carries the full key and is checked
against it when loaded: a file whose key or class does not match is refused
with an error, never used and never silently retrained over.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from advref import models
from advref._blas_threads import numpy_blas_threads
from advref.data_loaders.console import STDERR
from advref.reproduce.profiles import MODELS
from advref.training.history import History
from advref.training.monitors import adversarial_error
from advref.training.objectives import objective_named
from advref.training.recipes import build_model, get_recipe
from advref.training.second_stage import continue_training, retrain
from advref.training.sgd import train

# 1: first release; 2: piece-major maxout columns and bit-draw dropout masks.
TRAINING_CODE = 2


def array_digest(*arrays) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(str((a.shape, a.dtype.str)).encode())
        h.update(np.ascontiguousarray(a).data)
    return h.hexdigest()


def objective_of(variant):
    if variant.get("objective") is None:
        return None
    return objective_named(variant["objective"], eps=variant["eps"], alpha=variant["alpha"],
                           clip=variant.get("clip", (0.0, 1.0)),
                           adv_grad=variant.get("adv_grad", "eval"))


def adv_grad_of(variant, default="eval"):
    """How an adversarial variant's x_adv gradient is taken: its own choice, else
    `default` (the profile's); None for other variants."""
    if variant.get("objective") != "adversarial":
        return None
    return variant.get("adv_grad", default)


class CacheError(ValueError):
    """A cached model or checkpoint does not belong to the recipe it is loaded for."""


def load_checked(path, key, spec):
    """(model, extra) from a cached file, refused unless it carries `key`."""
    model, extra = models.load(path, with_extra=True)
    if extra.get("cache_key") != key:
        raise CacheError(f"{path}: this cached model was made for another recipe or data (its "
                         f"key {str(extra.get('cache_key'))[:16]}, expected {key[:16]}); remove "
                         "it to retrain")
    want = spec["recipe"]["model"]["class"]
    if type(model).__name__ != want:
        raise CacheError(f"{path}: cached model is a {type(model).__name__}, the recipe trains "
                         f"a {want}; remove it to retrain")
    return model, extra


class ModelCache:
    def __init__(self, folder, profile, seed, log=STDERR):
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
        variant = dict(variant)
        if "objective" in variant:
            variant["clip"] = self.profile["train_clip"]
        mode = adv_grad_of(variant, self.profile["adv_grad"])
        variant.pop("adv_grad", None)
        if mode not in (None, "eval"):
            variant["adv_grad"] = mode    # absent means eval: earlier keys stay valid
        return {"name": name, "recipe": recipe, "variant": variant, "settings": settings,
                "data": data.name, "data_sha256": data.digest, "seed": self.seed,
                "dtype": self.profile["dtype"], "two_stage": self.profile["two_stage"],
                "training_code": TRAINING_CODE}

    def key(self, name, data):
        spec = self.spec(name, data)
        return spec, hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()

    def path(self, name, key, suffix=".npz"):
        return self.folder / f"{name}-{key[:12]}{suffix}"

    def get(self, name, data):
        if name in self.loaded:
            return self.loaded[name]
        spec, key = self.key(name, data)
        path = self.path(name, key)
        if path.exists():
            model, extra = load_checked(path, key, spec)
            if self.log:
                print(f"[reproduce] {name}: loaded from cache {path.name}", file=self.log)
        else:
            model, extra = self.train(spec, key, data)
            models.save(model, path, extra=extra)
            for suffix in (".stage1.ckpt.npz", ".stage2.ckpt.npz"):
                self.path(name, key, suffix).unlink(missing_ok=True)
            self.trained.append(name)
        self.info[name] = {"file": str(path), "sha256": models.params_digest(model),
                           "epochs": extra["epochs"],
                           "best_epoch": extra["best_epoch"], "seconds": extra["seconds"],
                           "blas_threads": extra.get("blas_threads"),
                           "adv_grad": adv_grad_of(spec["variant"]),
                           "recipe": spec["recipe"]["model"], "variant": spec["variant"],
                           "settings": spec["settings"]}
        for k in ("second_stage", "stage1"):
            if k in extra:
                self.info[name][k] = extra[k]
        self.loaded[name] = model
        return model

    def train(self, spec, key, data):
        name = spec["name"]
        if self.log:
            print(f"[reproduce] {name}: training", file=self.log)
        x, y, xv, yv = data.split(spec["recipe"]["n_valid"])
        variant, settings = spec["variant"], dict(spec["settings"])
        objective = objective_of(variant)
        if objective is not None:
            settings["objective"] = objective
        if "monitor" in variant:
            settings.update(monitor=variant["monitor"], monitor_eps=variant["eps"])
            if variant.get("clip", (0.0, 1.0)) is None:
                settings["monitor"] = adversarial_error(variant["eps"], clip=None)
        if "l1" in variant:
            settings["l1"] = variant["l1"]

        seed = self.seed + variant.get("member", 0)      # ensemble members: the next seeds

        def make():
            return build_model(spec["recipe"]["model"], x.shape[1], data.n_classes,
                               rng=seed, dtype=np.dtype(spec["dtype"]), x=x, y=y)

        ck = {k: self.path(name, key, f".stage{k}.ckpt.npz") for k in (1, 2)}
        common = {"rng": seed, "log": self.log, "checkpoint_key": key, "resume": True}
        stage1_file = self.path(name, key, ".stage1.npz")
        if spec["two_stage"] and stage1_file.exists():
            first, extra1 = load_checked(stage1_file, key, spec)
            h1 = History.from_dict(extra1["history"])
            if self.log:
                print(f"[reproduce] {name}: stage 1 loaded from {stage1_file.name}",
                      file=self.log)
        else:
            first = make()
            h1 = train(first, x, y, x_valid=xv, y_valid=yv, checkpoint=ck[1], **common,
                       **settings)
            if spec["two_stage"]:
                models.save(first, stage1_file, extra={"cache_key": key, "spec": spec,
                                                       "history": h1.to_dict()})
                ck[1].unlink(missing_ok=True)
        extra = {"cache_key": key, "data": data.name, "epochs": len(h1.epochs),
                 "best_epoch": h1.best_epoch,
                 "spec": spec, "train_error_curve": [e["train_error"] for e in h1.epochs],
                 "valid_error_curve": [e.get("valid_error") for e in h1.epochs]}
        model = first
        if spec["two_stage"]:
            rule = spec["recipe"]["second_stage"]
            extra["second_stage"] = rule
            extra["stage1"] = {"file": stage1_file.name, "epochs": len(h1.epochs),
                               "best_epoch": h1.best_epoch,
                               "valid_error": h1.best_valid_error}
            if rule == "continue":
                h2 = continue_training(model, h1, x, y, xv, yv, checkpoint=ck[2], **common,
                                       **settings)
            else:
                model, h2 = retrain(make, h1, x, y, xv, yv, checkpoint=ck[2], **common,
                                    **settings)
            extra["epochs"] += len(h2.epochs)
            extra["stage2_history"] = h2.to_dict()
        extra["seconds"] = h1.seconds + (extra.get("stage2_history") or {}).get("seconds", 0.0)
        extra["blas_threads"] = numpy_blas_threads()
        extra["adv_grad"] = adv_grad_of(spec["variant"])
        return model, extra
