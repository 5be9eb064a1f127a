"""What a checkpoint may claim, checked before it is used.

A checkpoint is a file on disk: it may be truncated, forged or another run's.
Its members are bounded as model files are (advref.models.file_checks: every
.npy header against the bytes present, nothing compressed, no object arrays),
and every header field gets a type and range check. A failure is a
CheckpointError "PATH: corrupt checkpoint: FIELD ..." naming the field.
"""

from __future__ import annotations

import hashlib
import math
from typing import TYPE_CHECKING

import numpy as np

from advref.models.file_checks import ModelFileError, member_sizes

if TYPE_CHECKING:
    import os
    from pathlib import Path
    from typing import Any

    from advref.models.protocol import Trainable
    from advref.training.train_state import TrainState


class CheckpointError(ValueError):
    """A checkpoint file is unreadable, corrupt, or was written for another run."""


def _corrupt(path, field, expected, got):
    return CheckpointError(f"{path}: corrupt checkpoint: {field} must be {expected}, got "
                           f"{got!r:.80} instead")


def check_members(path: Path) -> dict:
    """{member: (shape, dtype)}, each header checked against the file's real bytes."""
    try:
        return member_sizes(path)
    except ModelFileError as err:
        detail = str(err).removeprefix(f"{path}: ")
        raise CheckpointError(f"{path}: corrupt checkpoint: {detail}") from None


def _count(path, header, field):
    value = header.get(field)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _corrupt(path, field, "an integer >= 0", value)
    return value


def _flag(path, header, field):
    value = header.get(field)
    if not isinstance(value, bool):
        raise _corrupt(path, field, "true or false", value)
    return value


def _real(path, header, field, low=-math.inf):
    value = header.get(field)
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not math.isfinite(value) or value < low:
        raise _corrupt(path, field, f"a finite number >= {low}" if low > -math.inf
                       else "a finite number", value)
    return float(value)


def check_header(path: Path, header: Any) -> dict:
    """The header's scalar fields, each of its type and range; returns them."""
    out = {f: _count(path, header, f) for f in ("epoch", "batch", "updates", "waited")}
    out.update({f: _flag(path, header, f) for f in ("finished", "has_best", "has_order")})
    _real(path, header, "loss_sum")                   # checked; used as stored
    _real(path, header, "seconds", low=0.0)
    for field in ("history", "rng_state"):
        if not isinstance(header.get(field), dict):
            raise _corrupt(path, field, "an object", header.get(field))
    _check_history(path, header["history"])
    _check_rng_state(path, header["rng_state"])
    return out


def _check_history(path, history):
    from advref.training.history import History

    try:
        restored = History.from_dict(history)
    except (KeyError, TypeError, ValueError) as err:
        raise _corrupt(path, "history", "a History record", f"{type(err).__name__}: {err}") \
            from None
    if not all(isinstance(e, dict) for e in restored.epochs):
        raise _corrupt(path, "history", "a list of epoch records", history.get("epochs"))


def _check_rng_state(path, state):
    name = state.get("bit_generator")
    try:
        bit_generator = getattr(np.random, name)()
        bit_generator.state = state
    except (AttributeError, TypeError, ValueError, KeyError) as err:
        raise _corrupt(path, "rng_state", "a NumPy bit generator's state",
                       f"{type(err).__name__}: {err}") from None


def check_positions(path: str | os.PathLike[str], state: TrainState,
                    n_examples: int) -> None:
    """The saved indices against the training set they index (n_examples rows):
    the monitor subset inside it, and a mid-epoch order that is a permutation of it
    with the next batch inside it."""
    idx = state.monitor_idx
    if idx is None or idx.ndim != 1 or idx.dtype.kind not in "iu" or \
            (idx.size and (idx.min() < 0 or idx.max() >= n_examples)):
        raise _corrupt(path, "monitor_idx", f"indices in [0, {n_examples})",
                       None if idx is None else f"{idx.dtype} {idx.shape}")
    if state.order is not None:
        order = state.order
        if order.shape != (n_examples,) or order.dtype.kind not in "iu" or \
                not np.array_equal(np.sort(order), np.arange(n_examples)):
            raise _corrupt(path, "order", f"a permutation of the {n_examples} examples",
                           f"{order.dtype} {order.shape}")
        if state.batch > n_examples:
            raise _corrupt(path, "batch", f"at most {n_examples}", state.batch)


def key_difference(saved: Any, expected: Any) -> str:
    """Where two keys differ, by field: what a refused checkpoint's message names."""
    if isinstance(saved, dict) and isinstance(expected, dict):
        fields = sorted(k for k in {*saved, *expected} if saved.get(k) != expected.get(k))
        return "; ".join(f"{k}: {saved.get(k, '(absent)')!r:.60} in the file, "
                         f"{expected.get(k, '(absent)')!r:.60} for this run" for k in fields)
    return f"its key {str(saved)[:16]}..., this run's {str(expected)[:16]}..."


def derived_key(model: Trainable, x: np.ndarray, y: np.ndarray, x_valid: np.ndarray | None,
                y_valid: np.ndarray | None, *settings: Any) -> str:
    """A checkpoint key from the run itself, for callers that give none: the model's
    class and configuration, a digest of the data, and the main settings (a seed given
    as a Generator counts by type alone: its state at the start is not recorded)."""
    h = hashlib.sha256()
    config = model.config() if hasattr(model, "config") else None
    h.update(repr((type(model).__name__, config)).encode())
    for a in (x, y, x_valid, y_valid):
        if a is not None:
            h.update(repr((a.shape, a.dtype.str)).encode())
            h.update(np.ascontiguousarray(a).data)
    h.update(repr([s if isinstance(s, (int, float, str, type(None))) else type(s).__name__
                   for s in settings]).encode())
    return f"derived:{h.hexdigest()}"
