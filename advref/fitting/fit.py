"""fit(spec, ...): the one training path, called by `advref train` and by the
reproduce cache alike.

Stage 1 trains a fresh model (the recipe's, from seed + member) with early
stopping on the validation split, checkpointing to files.stage1_checkpoint.
When spec.stage2 names a rule (advref.training.second_stage), stage 2 follows on
train + validation, checkpointing to files.stage2_checkpoint. With
files.stage1_model, a finished stage 1 is saved there between the stages and
loaded instead of retrained when a later run finds it: a run killed in stage 2
never repeats stage 1. Every file carries the spec's key and is refused when it
does not match (CacheError), never used and never silently overwritten.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from advref import models
from advref.data_loaders.console import STDERR
from advref.training.history import History
from advref.training.second_stage import second_stage
from advref.training.sgd import train


class CacheError(ValueError):
    """A saved model or checkpoint does not belong to the run it is loaded for."""


@dataclass(frozen=True)
class RunFiles:
    stage1_checkpoint: str | Path | None = None
    stage2_checkpoint: str | Path | None = None
    stage1_model: str | Path | None = None


@dataclass
class Fitted:
    model: models.Model
    stage1: History
    stage2: History | None = None
    stage1_loaded: bool = False       # stage 1 came from files.stage1_model

    @property
    def seconds(self) -> float:
        return self.stage1.seconds + (self.stage2.seconds if self.stage2 else 0.0)

    @property
    def epochs(self) -> int:
        return len(self.stage1.epochs) + (len(self.stage2.epochs) if self.stage2 else 0)


def load_keyed(path, key, class_name):
    """(model, extra) from a saved file, refused unless it carries `key` and is a
    `class_name`."""
    model, extra = models.load(path, with_extra=True)
    if extra.get("cache_key") != key:
        raise CacheError(f"{path}: this cached model was made for another recipe or data (its "
                         f"key {str(extra.get('cache_key'))[:16]}, expected {str(key)[:16]}); "
                         "remove it to retrain")
    if type(model).__name__ != class_name:
        raise CacheError(f"{path}: cached model is a {type(model).__name__}, the recipe trains "
                         f"a {class_name}; remove it to retrain")
    return model, extra


def fit(spec, x, y, x_valid, y_valid, n_classes, *, files=RunFiles(), log=STDERR,
        x_unlabelled=None) -> Fitted:
    """Train the run `spec` describes on (x, y), validating on (x_valid, y_valid)."""
    key = spec.key()
    settings = spec.trainer_settings(
        x_unlabelled=x_unlabelled, unlabelled_batch=spec.recipe.train.get("batch_size", 100))

    def make():
        return spec.recipe.build(x.shape[1], n_classes, rng=spec.train_seed,
                                 dtype=np.dtype(spec.dtype), x=x, y=y)

    common = {"rng": spec.train_seed, "log": log, "checkpoint_key": key, "resume": True}
    saved = files.stage1_model is not None and Path(files.stage1_model).exists()
    if spec.stage2 and saved:
        first, extra = load_keyed(files.stage1_model, key, spec.recipe.model["class"])
        stage1 = History.from_dict(extra["history"])
        if log:
            print(f"stage 1 loaded from {Path(files.stage1_model).name}", file=log)
    else:
        first = make()
        stage1 = train(first, x, y, x_valid=x_valid, y_valid=y_valid,
                       checkpoint=files.stage1_checkpoint, **common, **settings)
        if spec.stage2 and files.stage1_model is not None:
            models.save(first, files.stage1_model, extra={
                "cache_key": key, "spec": spec.key_dict(), "history": stage1.to_dict()})
            if files.stage1_checkpoint is not None:
                Path(files.stage1_checkpoint).unlink(missing_ok=True)
    if not spec.stage2:
        return Fitted(first, stage1)
    model, stage2 = second_stage(spec.stage2, first, stage1, make, x, y, x_valid, y_valid,
                                 checkpoint=files.stage2_checkpoint, **common, **settings)
    return Fitted(model, stage1, stage2, saved)
