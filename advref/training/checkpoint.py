"""Training checkpoints: everything a killed run needs to continue bit-identically.

A checkpoint is an .npz file (read without pickle) holding

    param/<name>     the model's parameters at the moment of the checkpoint
    velocity/<name>  the momentum velocity of each parameter
    best/<name>      the best-so-far parameters (early stopping), if any
    monitor_idx      the training-error monitor's fixed subset
    order            this epoch's shuffled order (mid-epoch checkpoints only)
    __checkpoint__   a JSON header: format, version, the caller's key, the
                     generator's bit-generator state, the position in the
                     schedule (epoch, next batch, updates, running loss sum),
                     the early-stopping counters and the History so far

The loop's state after a batch is a pure function of this content, so a run
resumed from it performs exactly the floating-point operations the uninterrupted
run would have: same draws, same order, same bits.

The key is the caller's description of what is being trained (recipe, data,
seed, ...). A checkpoint whose key differs from the caller's is refused, so a
file is never trusted by its name. Writes are atomic (temporary file, then
os.replace), so a kill during a save leaves the previous checkpoint intact.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from advref.data_loaders.files import atomic_write_bytes, check_regular_file
from advref.training.checkpoint_checks import (
    CheckpointError,
    check_header,
    check_members,
    key_difference,
)
from advref.training.train_state import TrainState

__all__ = ["CheckpointError", "TrainState", "load_checkpoint", "save_checkpoint"]

FORMAT = "advref-checkpoint"
VERSION = 1
HEADER = "__checkpoint__"


def save_checkpoint(path: str | os.PathLike[str], key: str, params: dict[str, np.ndarray],
                    state: TrainState) -> None:
    """Write the state (and the model's params) to `path` atomically."""
    header = {"format": FORMAT, "version": VERSION, "key": key,
              "epoch": state.epoch, "batch": state.batch, "updates": state.updates,
              "loss_sum": state.loss_sum, "waited": state.waited, "finished": state.finished,
              "seconds": state.seconds, "history": state.history,
              "rng_state": state.rng_state, "has_best": state.best is not None,
              "has_order": state.order is not None}
    arrays: dict[str, Any] = {f"param/{k}": v for k, v in params.items()}
    arrays.update({f"velocity/{k}": v for k, v in state.velocity.items()})
    if state.best is not None:
        arrays.update({f"best/{k}": v for k, v in state.best.items()})
    arrays["monitor_idx"] = state.monitor_idx
    if state.order is not None:
        arrays["order"] = state.order
    arrays[HEADER] = np.array(json.dumps(header, allow_nan=False))
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    atomic_write_bytes(path, buf.getvalue())


def _group(npz, prefix):
    return {k[len(prefix):]: npz[k] for k in npz.files if k.startswith(prefix)}


def _check_like(path, what, arrays, params):
    if set(arrays) != set(params):
        raise CheckpointError(f"{path}: {what} holds {sorted(arrays)}, the model has "
                              f"{sorted(params)}")
    for k, v in arrays.items():
        if v.shape != params[k].shape or v.dtype != params[k].dtype:
            raise CheckpointError(f"{path}: {what} {k} is {v.shape} {v.dtype}, the model's is "
                                  f"{params[k].shape} {params[k].dtype}")


def load_checkpoint(path: str | os.PathLike[str], key: str,
                    params: dict[str, np.ndarray]) -> tuple[dict, TrainState]:
    """(params, state) from `path`, checked against `key` and the model's `params`."""
    path = Path(path)
    check_regular_file(path, "checkpoint")
    check_members(path)                       # headers against the bytes, before reading
    try:
        with np.load(path, allow_pickle=False) as npz:
            if HEADER not in npz.files:
                raise CheckpointError(f"{path}: not an advref checkpoint (no {HEADER})")
            header = json.loads(str(npz[HEADER][()]))
            if not isinstance(header, dict) or header.get("format") != FORMAT:
                raise CheckpointError(f"{path}: not an advref checkpoint")
            if header.get("version") != VERSION:
                raise CheckpointError(f"{path}: checkpoint version {header.get('version')!r}, "
                                      f"this advref reads version {VERSION}")
            if header.get("key") != key:
                raise CheckpointError(
                    f"{path}: checkpoint was written for another run ("
                    f"{key_difference(header.get('key'), key)}); remove it to start afresh")
            fields = check_header(path, header)
            saved = _group(npz, "param/")
            velocity = _group(npz, "velocity/")
            best = _group(npz, "best/") if fields["has_best"] else None
            monitor_idx = npz["monitor_idx"]
            order = npz["order"] if fields["has_order"] else None
    except (zipfile.BadZipFile, EOFError, OSError, KeyError, TypeError,
            json.JSONDecodeError) as err:
        raise CheckpointError(f"{path}: corrupt checkpoint ({type(err).__name__}: {err})") \
            from None
    except ValueError as err:
        if isinstance(err, CheckpointError):
            raise
        raise CheckpointError(f"{path}: corrupt checkpoint ({err})") from None
    _check_like(path, "parameters", saved, params)
    _check_like(path, "velocity", velocity, params)
    if best is not None:
        _check_like(path, "best parameters", best, params)
    for what, arrays in (("parameters", saved), ("velocity", velocity), ("best", best or {})):
        for k, v in arrays.items():
            if not np.isfinite(v).all():
                raise CheckpointError(f"{path}: {what} {k} holds NaN or infinite values")
    state = TrainState(epoch=fields["epoch"], batch=fields["batch"], updates=fields["updates"],
                       loss_sum=header["loss_sum"], waited=fields["waited"],
                       finished=fields["finished"], seconds=header["seconds"],
                       history=header["history"], rng_state=header["rng_state"],
                       velocity=velocity, best=best, monitor_idx=monitor_idx, order=order)
    return saved, state
