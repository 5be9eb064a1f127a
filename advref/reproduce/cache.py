"""Train once, attack many times: models cached in DIR/models by a recipe digest.

Each model is a TrainSpec (advref.fitting.spec) in the "reproduce" key scheme:
the SHA-256 of the canonical JSON of everything that determines the trained
parameters: model name, recipe, training variant, data name and a digest of
the training arrays, seed, dtype, epoch cap, patience, stage scheme, and
TRAINING_CODE. Training is advref.fitting.fit, as for `advref train`. A rerun (or
a resume after an interruption) loads what is there; a change to any of these
trains anew. Saves are atomic (models.save). The key leaves out NumPy's BLAS
thread count, which orders float32 sums and so changes the parameters' last
bits: each trained model records the count of the process that finished it
(`blas_threads`, None where it cannot be read), and the results list it. So
does the BLAS kernel (`blas`: library, version, kernel, threads), which orders
the sums too and differs from CPU to CPU (advref._blas_threads).

Training checkpoints into the same folder (advref.training.checkpoint), so a killed
run resumes inside a model: NAME-KEY.stage1.ckpt.npz, then, for two-stage
recipes, the finished stage 1 as NAME-KEY.stage1.npz and stage 2's
NAME-KEY.stage2.ckpt.npz. Every file carries the full key and is checked
against it when loaded: a file whose key or class does not match is refused
with an error, never used and never silently retrained over.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from pathlib import Path

from advref import models
from advref._blas_threads import numpy_blas, numpy_blas_threads
from advref.data_loaders.console import STDERR
from advref.fitting.fit import CacheError, RunFiles, fit, load_keyed
from advref.fitting.recipes import get_recipe
from advref.fitting.spec import TRAINING_CODE, Monitor, Objective, TrainSpec, array_digest
from advref.reproduce.profiles import MODELS

__all__ = ["TRAINING_CODE", "CacheError", "ModelCache", "adv_grad_of", "array_digest",
           "load_checked", "spec_for"]


def adv_grad_of(variant, default="eval"):
    """How an adversarial variant's x_adv gradient is taken: its own choice, else
    `default` (the profile's); None for other variants."""
    if variant.get("objective") != "adversarial":
        return None
    return variant.get("adv_grad", default)


def spec_for(name, profile, data, seed) -> TrainSpec:
    """The TrainSpec of model `name` (profiles.MODELS) in `profile`, on `data`."""
    recipe_name, family, variant = MODELS[name]
    recipe = get_recipe(recipe_name)
    settings = dict(recipe.train)
    cap = profile["epochs"][family]
    if cap is not None:
        settings["epochs"] = min(settings["epochs"], cap)
    recipe = recipe.with_model(**profile["overrides"].get(family, {}))
    if profile["patience"] != "recipe":
        settings["patience"] = profile["patience"]
    clip = profile["train_clip"]
    clip = None if clip is None else tuple(clip)
    objective = Objective()
    if variant.get("objective") is not None:
        objective = Objective(variant["objective"], eps=variant["eps"], alpha=variant["alpha"],
                              clip=clip,
                              adv_grad=adv_grad_of(variant, profile["adv_grad"]) or "eval")
    monitor = Monitor()
    if "monitor" in variant:
        monitor = Monitor(variant["monitor"], eps=variant["eps"], clip=clip)
    return TrainSpec(recipe, settings, objective, monitor,
                     decay={"l1": dict(variant["l1"])} if "l1" in variant else {},
                     data=data.name, data_sha256=data.digest, seed=seed,
                     member=variant.get("member", 0), dtype=profile["dtype"],
                     stage2=recipe.second_stage if profile["two_stage"] else None,
                     scheme="reproduce", name=name)


def load_checked(path, key, spec: TrainSpec):
    """(model, extra) from a cached file, refused unless it carries `key` and, where it
    records one (every file since 2026-12-04), the digest of its own parameters."""
    model, extra = load_keyed(path, key, spec.recipe.model["class"])
    recorded = extra.get("params_sha256")
    if recorded is not None and recorded != models.params_digest(model):
        raise CacheError(f"{path}: its parameters are not the ones trained under its key "
                         f"(digest {models.params_digest(model)[:16]}, recorded "
                         f"{str(recorded)[:16]}); remove it to retrain")
    return model, extra


@contextmanager
def model_lock(path, name, log):
    """An exclusive lock on `path` for the duration (fcntl; where the platform has no
    fcntl, concurrent runs into one folder are not supported and nothing is locked)."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if log:
                print(f"[reproduce] {name}: another run is training it; waiting", file=log)
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class ModelCache:
    def __init__(self, folder, profile, seed, log=STDERR):
        self.folder = Path(folder) / "models"        # made when a model is first trained
        self.profile, self.seed, self.log = profile, seed, log
        self.loaded, self.trained, self.info = {}, [], {}
        self.training_seconds = 0.0        # wall time spent training in this process

    def spec(self, name, data) -> TrainSpec:
        return spec_for(name, self.profile, data, self.seed)

    def key(self, name, data):
        spec = self.spec(name, data)
        return spec, spec.key()

    def path(self, name, key, suffix=".npz"):
        return self.folder / f"{name}-{key[:12]}{suffix}"

    def get(self, name, data):
        if name in self.loaded:
            return self.loaded[name]
        spec, key = self.key(name, data)
        path = self.path(name, key)
        # One process at a time trains a model, writes and removes its files: another
        # run that wants it waits here, then finds it in the cache.
        with model_lock(self.folder / ".locks" / f"{name}-{key[:12]}.lock", name, self.log):
            if path.exists():
                model, extra = load_checked(path, key, spec)
                if self.log:
                    print(f"[reproduce] {name}: loaded from cache {path.name}", file=self.log)
            else:
                began = time.perf_counter()
                model, extra = self.train(spec, key, data)
                self.training_seconds += time.perf_counter() - began
                extra["params_sha256"] = models.params_digest(model)
                models.save(model, path, extra=extra)
                for suffix in (".stage1.ckpt.npz", ".stage2.ckpt.npz"):
                    self.path(name, key, suffix).unlink(missing_ok=True)
                self.trained.append(name)
        self.info[name] = {"file": str(path), "sha256": models.params_digest(model),
                           "epochs": extra["epochs"],
                           "best_epoch": extra["best_epoch"], "seconds": extra["seconds"],
                           "blas_threads": extra.get("blas_threads"),
                           "blas": extra.get("blas"),
                           "adv_grad": adv_grad_of(spec.variant()),
                           "recipe": spec.recipe.model, "variant": spec.variant(),
                           "settings": spec.settings}
        for k in ("second_stage", "stage1"):
            if k in extra:
                self.info[name][k] = extra[k]
        self.loaded[name] = model
        return model

    def train(self, spec: TrainSpec, key, data):
        name = spec.name
        if self.log:
            print(f"[reproduce] {name}: training", file=self.log)
        x, y, xv, yv = data.split(spec.recipe.n_valid)
        stage1_file = self.path(name, key, ".stage1.npz")
        files = RunFiles(self.path(name, key, ".stage1.ckpt.npz"),
                         self.path(name, key, ".stage2.ckpt.npz"),
                         stage1_file if spec.stage2 else None)
        done = fit(spec, x, y, xv, yv, data.n_classes, files=files, log=self.log)
        h1 = done.stage1
        extra = {"cache_key": key, "data": data.name, "epochs": done.epochs,
                 "best_epoch": h1.best_epoch, "spec": spec.key_dict(),
                 "train_error_curve": [e["train_error"] for e in h1.epochs],
                 "valid_error_curve": [e.get("valid_error") for e in h1.epochs]}
        if spec.stage2:
            extra["second_stage"] = spec.stage2
            extra["stage1"] = {"file": stage1_file.name, "epochs": len(h1.epochs),
                               "best_epoch": h1.best_epoch,
                               "valid_error": h1.best_valid_error}
            assert done.stage2 is not None     # a two-stage spec ran its second stage
            extra["stage2_history"] = done.stage2.to_dict()
        extra["seconds"] = done.seconds
        extra["blas_threads"] = numpy_blas_threads()
        extra["blas"] = numpy_blas()
        extra["adv_grad"] = adv_grad_of(spec.variant())
        return done.model, extra
