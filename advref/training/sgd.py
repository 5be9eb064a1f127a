"""Minibatch SGD with momentum, the maxout recipe's schedules, and early stopping.

Per update t (counted from 0), for every parameter p with gradient g:
    lr_t = max(lr / lr_decay^t, lr_min)
    v    = mu_e * v - lr_t * g                 (momentum, v starts at 0)
    p    = p + v
then every matrix in model.weight_names has each column rescaled to L2 norm at
most max_col_norm (when set). Momentum in epoch e (1-based) rises linearly:
    mu_e = momentum + (final_momentum - momentum) * clip((e - start)/(saturate - start), 0, 1)
Weight decay adds to the objective, per chosen weight W:
    l1 * sum|W|   (gradient l1 * sign(W))      l2 * sum W^2   (gradient 2 l2 W)

The objective is a function (model, x, y, rng) -> (mean loss, grads); the
default is the clean loss in train mode (dropout on). After every epoch the
monitor measures the validation error: "clean", "adversarial" (error on FGSM
examples of eps `monitor_eps`, the paper's choice for adversarial training) or
a function (model, x, y) -> error. With `patience`, training stops after that
many epochs without a strictly lower one, and the best parameters are
restored. Same seed, same data: bit-identical parameters.

Checkpoints (advref.training.checkpoint) make a run resumable: killed at any moment and
resumed, it ends with bit-identical parameters. The two-stage recipes live in
advref.training.second_stage.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from advref._validation import require_methods
from advref.analysis.metrics import error_rate
from advref.data_loaders.console import STDERR
from advref.models.validation import as_generator, check_number, check_positive_int
from advref.training.checkpoint import TrainState, load_checkpoint, save_checkpoint
from advref.training.checkpoint_checks import check_positions, derived_key
from advref.training.history import History, log_epoch
from advref.training.max_norm import limit_column_norms
from advref.training.momentum import momentum_update
from advref.training.monitors import resolve_monitor
from advref.training.objectives import clean_objective

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any

    from advref.models.protocol import Monitor, Seed, Trainable, TrainingObjective

TRAIN_MONITOR_SIZE = 10_000


def momentum_at(epoch: int, momentum: float, final_momentum: float | None, start: int,
                saturate: int) -> float:
    if final_momentum is None or saturate <= start:
        return momentum
    frac = min(max((epoch - start) / (saturate - start), 0.0), 1.0)
    return momentum + (final_momentum - momentum) * frac


def decay_terms(l1: float | dict | None, l2: float | dict | None,
                weight_names: Sequence[str]) -> dict[str, tuple[float, float]]:
    """{param: (l1, l2)} from floats (all weights) or dicts {param: coef}, each >= 0."""
    def as_dict(value, name):
        if value is None:
            return {}
        if isinstance(value, dict):
            return {k: check_number(v, f"{name}[{k!r}]", low=0.0) for k, v in value.items()}
        value = check_number(value, name, low=0.0)
        return dict.fromkeys(weight_names, value) if value else {}

    d1, d2 = as_dict(l1, "l1"), as_dict(l2, "l2")
    for name in (*d1, *d2):
        if name not in weight_names:
            raise ValueError(f"weight decay names a weight matrix of {list(weight_names)}, got "
                             f"{name!r} instead.")
    return {k: (d1.get(k, 0.0), d2.get(k, 0.0)) for k in {*d1, *d2}}


def sgd_step(model: Trainable, grads: dict[str, np.ndarray], velocity: dict[str, np.ndarray],
             mu: float, step: float, decay: dict[str, tuple[float, float]],
             max_col_norm: float | None) -> None:
    """One momentum update of every parameter in place (see the module docstring).

    The update runs block by block (advref.training.momentum), and each weight matrix's
    column norms are limited right after its own update.
    """
    limited = model.weight_names if max_col_norm is not None else ()
    for name, p in model.params.items():
        g = grads[name]
        if name in decay:
            c1, c2 = decay[name]
            g = g + c1 * np.sign(p) + 2 * c2 * p
        momentum_update(p, velocity[name], g, mu, step)
        if name in limited and max_col_norm is not None:
            limit_column_norms(p, max_col_norm)


class _Checkpointer:
    """Saves the loop's state to `path` every epoch and every `seconds` mid-epoch."""

    def __init__(self, path, key, seconds):
        self.path, self.key, self.seconds = path, key, seconds
        self.last = time.perf_counter()

    def due(self):
        return self.path is not None and time.perf_counter() - self.last >= self.seconds

    def save(self, model, state, history, gen, elapsed):
        if self.path is None:
            return
        state.history, state.rng_state = history.to_dict(), gen.bit_generator.state
        state.seconds = elapsed
        save_checkpoint(self.path, self.key, model.params, state)
        self.last = time.perf_counter()


def train(model: Trainable, x: np.ndarray, y: np.ndarray, *, epochs: int, batch_size: int = 100,
          lr: float = 0.1, lr_decay: float = 1.0, lr_min: float = 0.0, momentum: float = 0.0,
          final_momentum: float | None = None, momentum_start: int = 1,
          momentum_saturate: int = 250, max_col_norm: float | str | None = "model",
          l1: float | dict | None = None, l2: float | dict | None = None,
          x_valid: np.ndarray | None = None, y_valid: np.ndarray | None = None,
          patience: int | None = None, objective: TrainingObjective = clean_objective,
          monitor: str | Monitor = "clean", monitor_eps: float = 0.25,
          callback: Callable[[dict, Any], Any] | None = None, rng: Seed = 0,
          log: Any = STDERR, restore_best: bool = True,
          checkpoint: str | os.PathLike[str] | None = None, checkpoint_key: str | None = None,
          resume: bool = False, checkpoint_seconds: float = 300.0) -> History:
    """Train `model` in place; returns the History. See the module docstring.

    With `checkpoint` (a path), the whole loop state is saved there atomically
    after every epoch and, within an epoch, after the first batch that ends
    `checkpoint_seconds` after the last save (advref.training.checkpoint). With `resume`,
    an existing checkpoint is loaded first (its key must equal `checkpoint_key`)
    and training continues from it bit-identically; without `resume` an existing
    checkpoint is an error, so nothing is overwritten by accident.
    `callback(record, model)` runs after each epoch's record is complete and
    before it is saved; it may add entries to the record, and a true return stops
    training.
    """
    require_methods(model, ("check_input", "loss_and_grads"), "train")
    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    lr = check_number(lr, "lr", low=0.0, low_open=True)
    lr_decay = check_number(lr_decay, "lr_decay", low=1.0)
    lr_min = check_number(lr_min, "lr_min", low=0.0)
    momentum = check_number(momentum, "momentum", low=0.0, high=1.0, high_open=True)
    if final_momentum is not None:
        final_momentum = check_number(final_momentum, "final_momentum", low=0.0, high=1.0,
                                      high_open=True)
    momentum_start = check_positive_int(momentum_start, "momentum_start", low=0)
    momentum_saturate = check_positive_int(momentum_saturate, "momentum_saturate", low=0)
    if patience is not None:
        patience = check_positive_int(patience, "patience")
    if isinstance(max_col_norm, str) and max_col_norm == "model":
        max_col_norm = model.max_col_norm
    if max_col_norm is not None:
        max_col_norm = check_number(max_col_norm, "max_col_norm", low=0.0, low_open=True)
    checkpoint_seconds = check_number(checkpoint_seconds, "checkpoint_seconds", low=0.0)
    if (x_valid is None) != (y_valid is None):
        missing = "y_valid" if y_valid is None else "x_valid"
        raise ValueError(f"validation data needs both x_valid and y_valid, got {missing}=None "
                         "instead.")
    if patience is not None and x_valid is None:
        raise ValueError("patience needs validation data (x_valid, y_valid), got none instead.")
    if not callable(objective):
        raise TypeError(f"objective must be a function (model, x, y, rng) -> (loss, grads), "
                        f"got {type(objective).__name__} instead.")
    monitor = resolve_monitor(monitor, monitor_eps)
    x, y = model.check_input(x, y)
    if x_valid is not None:
        model.check_input(x_valid, y_valid)
    gen = as_generator(rng)
    decay = decay_terms(l1, l2, model.weight_names)
    if checkpoint is not None and checkpoint_key is None:
        checkpoint_key = derived_key(model, x, y, x_valid, y_valid, epochs, batch_size, lr,
                                     lr_decay, patience, rng)
    saver = _Checkpointer(checkpoint, checkpoint_key, checkpoint_seconds)
    if checkpoint is not None and os.path.lexists(checkpoint) and not Path(checkpoint).exists():
        raise ValueError(f"checkpoint {checkpoint} is a link to nothing; remove it, or point "
                         "it at the checkpoint to resume.")
    if checkpoint is not None and Path(checkpoint).exists() and not resume:
        raise ValueError(f"checkpoint {checkpoint} already exists: resume from it, or remove "
                         "it to start afresh.")
    if resume and checkpoint is not None and Path(checkpoint).exists():
        assert checkpoint_key is not None        # derived above when not given
        params, state = load_checkpoint(checkpoint, checkpoint_key, model.params)
        check_positions(checkpoint, state, len(x))
        for k, v in params.items():
            model.params[k][...] = v
        gen.bit_generator.state = state.rng_state
        history = History.from_dict(state.history)
        if log:
            print(f"resuming from {checkpoint}: epoch {state.epoch + 1}, update "
                  f"{state.updates}", file=log, flush=True)
    else:
        state = TrainState(velocity={k: np.zeros_like(v) for k, v in model.params.items()},
                           monitor_idx=gen.permutation(len(x))[:TRAIN_MONITOR_SIZE])
        history = History()
    velocity, monitor_idx = state.velocity, state.monitor_idx
    start_time = time.perf_counter() - state.seconds
    epoch = state.epoch
    while not state.finished and epoch < epochs:
        epoch += 1
        mu = momentum_at(epoch, momentum, final_momentum, momentum_start, momentum_saturate)
        if state.order is None:
            state.order, state.batch, state.loss_sum = gen.permutation(len(x)), 0, 0.0
        order = state.order
        for i in range(state.batch, len(x), batch_size):
            batch = order[i:i + batch_size]
            loss, grads = objective(model, x[batch], y[batch], gen)
            state.loss_sum += float(loss) * len(batch)
            step = max(lr / lr_decay ** state.updates, lr_min)
            sgd_step(model, grads, velocity, mu, step, decay, max_col_norm)
            state.updates += 1
            history.updates = state.updates
            if saver.due() and i + batch_size < len(x):
                state.batch = i + batch_size
                saver.save(model, state, history, gen, time.perf_counter() - start_time)
        step = max(lr / lr_decay ** (state.updates - 1), lr_min)
        record = {"epoch": epoch, "loss": state.loss_sum / len(x), "lr": step, "momentum": mu,
                  "updates": state.updates,
                  "train_error": error_rate(model, x[monitor_idx], y[monitor_idx])}
        state.order = None
        if x_valid is not None and y_valid is not None:         # both or neither (above)
            record["valid_error"] = float(monitor(model, x_valid, y_valid))
            if state.best is None or record["valid_error"] < history.best_valid_error:
                history.best_valid_error, history.best_epoch, state.waited = \
                    record["valid_error"], epoch, 0
                state.best = {k: v.copy() for k, v in model.params.items()}
            else:
                state.waited += 1
        stop = bool(callback is not None and callback(record, model))
        record["seconds"] = time.perf_counter() - start_time
        history.epochs.append(record)
        if patience is not None and state.waited >= patience:
            history.stopped_early = stop = True
        state.epoch, state.finished = epoch, stop or epoch >= epochs
        saver.save(model, state, history, gen, record["seconds"])
        if log:
            log_epoch(log, record, epochs,
                      None if patience is None or x_valid is None else patience - state.waited)
    if restore_best and state.best is not None:
        for k, v in state.best.items():
            model.params[k] = v.copy()
    history.seconds = time.perf_counter() - start_time
    return history
