"""The second stage of a two-stage recipe: after early stopping on a validation
split, use the validation examples for training too. Two published rules:

"continue" (pylearn2 mnist_pi_continued.yaml, the 240-unit maxout's 0.94%):
    start from the best stage-1 parameters;
    train on train + validation with the same objective, dropout and max-norm;
    lr continues its per-update decay from its value at the best epoch,
        lr_t = max(lr / lr_decay^(u* + t), lr_min)   u* = updates up to the best epoch;
    momentum is fixed at its value in the best epoch (no further schedule);
    stop after the first epoch e with
        J(theta_e; former validation examples) <= J(theta*; training examples)
    where J is the training objective (dropout on, adversarial term included)
    and theta* the best stage-1 parameters: the validation objective has fallen
    to the training objective at the best epoch. `epochs` caps it.
    The velocity starts at zero (only the best parameters are kept from stage 1).
    J is estimated with a fixed dropout draw per evaluation (seeded by the seed
    and the epoch), so the stop is reproducible and survives a resume.

"retrain" (the adversarial paper's 1600-unit models): a fresh model from the
    same seed, trained on train + validation for the number of epochs stage 1
    chose.

Both record what ran: every stage-2 History record of "continue" holds
"match_objective" and "target_objective".
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import numpy as np

from advref.training.history import History
from advref.training.objectives import clean_objective, objective_value
from advref.training.sgd import train

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any

    from advref.models.protocol import Seed, Trainable

RULES = ("continue", "retrain")


def check_rule(rule: Any) -> str:
    if rule not in RULES:
        raise ValueError(f"second-stage rule must be one of {RULES}, got {rule!r} instead.")
    return rule


def _seed_sequence(rng):
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return np.random.SeedSequence(int(rng))
    return np.random.SeedSequence(int(rng.integers(2**63)))


def _eval_rng(seq, epoch):
    return np.random.default_rng(np.random.SeedSequence(seq.entropy, spawn_key=(3, epoch)))


def continue_settings(stage1: History, settings: dict) -> dict:
    """The stage-2 optimiser settings of "continue": lr and momentum where the best
    epoch left them, no early stopping."""
    if not stage1.epochs or stage1.best_epoch < 1:
        raise ValueError("the continue rule needs a stage 1 with a best epoch, got none "
                         "instead.")
    best = stage1.epochs[stage1.best_epoch - 1]
    lr, decay = settings.get("lr", 0.1), settings.get("lr_decay", 1.0)
    lr_min = settings.get("lr_min", 0.0)
    out = {k: v for k, v in settings.items() if k not in ("patience", "monitor", "monitor_eps")}
    out.update(lr=max(lr / decay ** best["updates"], lr_min), momentum=best["momentum"],
               final_momentum=None)
    return out


def first_match(values: Sequence[float], target: float) -> int | None:
    """The 1-based index of the first value <= target, or None."""
    for i, v in enumerate(values, 1):
        if v <= target:
            return i
    return None


def continue_training(model: Trainable, stage1: History, x: np.ndarray, y: np.ndarray,
                      x_valid: np.ndarray, y_valid: np.ndarray, *, rng: Seed = 0,
                      match_value: Callable[[Any, int], float] | None = None,
                      target: float | None = None,
                      checkpoint: str | os.PathLike[str] | None = None,
                      checkpoint_key: str | None = None, resume: bool = False,
                      **settings: Any) -> History:
    """Stage 2 by the "continue" rule (module docstring), in place on `model`, which
    must hold the best stage-1 parameters. `target` and `match_value(model, epoch)`
    replace the measured training and validation objectives (tests)."""
    objective = settings.get("objective", clean_objective)
    seq = _seed_sequence(rng)
    settings = continue_settings(stage1, settings)
    if target is None:
        target = objective_value(objective, model, x, y, _eval_rng(seq, 0))
    if match_value is None:
        def match_value(m, epoch):
            return objective_value(objective, m, x_valid, y_valid, _eval_rng(seq, epoch))

    def callback(record, m):
        record["match_objective"] = float(match_value(m, record["epoch"]))
        record["target_objective"] = target
        return record["match_objective"] <= target

    x_all, y_all = np.concatenate([x, x_valid]), np.concatenate([y, y_valid])
    train_rng = np.random.default_rng(np.random.SeedSequence(seq.entropy, spawn_key=(2,)))
    return train(model, x_all, y_all, rng=train_rng, callback=callback, restore_best=False,
                 checkpoint=checkpoint, checkpoint_key=checkpoint_key, resume=resume,
                 **settings)


def retrain(make_model: Callable[[], Any], stage1: History, x: np.ndarray, y: np.ndarray,
            x_valid: np.ndarray, y_valid: np.ndarray, *, rng: Seed = 0,
            checkpoint: str | os.PathLike[str] | None = None, checkpoint_key: str | None = None,
            resume: bool = False, **settings: Any) -> tuple[Any, History]:
    """Stage 2 by the "retrain" rule: (fresh model, History)."""
    settings = {k: v for k, v in settings.items() if k not in ("patience", "epochs")}
    model = make_model()
    x_all, y_all = np.concatenate([x, x_valid]), np.concatenate([y, y_valid])
    history = train(model, x_all, y_all, epochs=max(stage1.best_epoch, 1), rng=rng,
                    checkpoint=checkpoint, checkpoint_key=checkpoint_key, resume=resume,
                    **settings)
    return model, history


def second_stage(rule: str, model: Trainable, stage1: History, make_model: Callable[[], Any],
                 x: np.ndarray, y: np.ndarray, x_valid: np.ndarray, y_valid: np.ndarray, *,
                 rng: Seed = 0, checkpoint: str | os.PathLike[str] | None = None,
                 checkpoint_key: str | None = None, resume: bool = False,
                 **settings: Any) -> tuple[Any, History]:
    """Stage 2 by `rule` after a stage 1 that left `model` at its best parameters:
    (model, stage-2 History); "retrain" returns a fresh model from make_model."""
    check_rule(rule)
    common: dict[str, Any] = {"rng": rng, "checkpoint": checkpoint,
                              "checkpoint_key": checkpoint_key, "resume": resume}
    if rule == "retrain":
        return retrain(make_model, stage1, x, y, x_valid, y_valid, **common, **settings)
    history = continue_training(model, stage1, x, y, x_valid, y_valid, **common, **settings)
    return model, history


def train_two_stage(make_model: Callable[[], Any], x: np.ndarray, y: np.ndarray,
                    x_valid: np.ndarray, y_valid: np.ndarray, *, rule: str = "retrain",
                    rng: Seed = 0, checkpoints: Sequence[str | os.PathLike[str]] | None = None,
                    checkpoint_key: str | None = None, resume: bool = False,
                    **settings: Any) -> tuple[Any, History, History]:
    """Stage 1 (early stopping on x_valid) then stage 2 by `rule`.

    `checkpoints` is a path prefix: stage k checkpoints to PREFIX.stageK.ckpt.npz.
    Returns (model, stage-1 History, stage-2 History).
    """
    check_rule(rule)
    ck = {k: None if checkpoints is None else f"{checkpoints}.stage{k}.ckpt.npz" for k in (1, 2)}
    first = make_model()
    history1 = train(first, x, y, x_valid=x_valid, y_valid=y_valid, rng=rng,
                     checkpoint=ck[1], checkpoint_key=checkpoint_key, resume=resume,
                     **settings)
    model, history2 = second_stage(rule, first, history1, make_model, x, y, x_valid, y_valid,
                                   rng=rng, checkpoint=ck[2], checkpoint_key=checkpoint_key,
                                   resume=resume, **settings)
    return model, history1, history2
