"""The record of a training run: one dict per epoch, and the early-stopping outcome.

Each epoch record holds "epoch", "loss" (the mean training objective over the
epoch's batches), "lr" (the last step size used), "momentum", "updates" (so
far), "train_error" (on a fixed subset of up to 10,000 training examples), and
with validation data "valid_error"; the second stage's continue rule adds
"match_objective" and "target_objective". A History round-trips through JSON
(checkpoints and model files store it) with NaN written as None.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from typing import TextIO


@dataclass
class History:
    epochs: list = field(default_factory=list)
    best_epoch: int = 0
    best_valid_error: float = float("nan")
    stopped_early: bool = False
    seconds: float = 0.0
    updates: int = 0

    def to_dict(self) -> dict:
        """JSON-ready (NaN as None)."""
        bve = self.best_valid_error
        return {"epochs": self.epochs, "best_epoch": self.best_epoch,
                "best_valid_error": None if np.isnan(bve) else bve,
                "stopped_early": self.stopped_early, "seconds": self.seconds,
                "updates": self.updates}

    @classmethod
    def from_dict(cls, d: dict) -> History:
        bve = d["best_valid_error"]
        return cls(epochs=list(d["epochs"]), best_epoch=d["best_epoch"],
                   best_valid_error=float("nan") if bve is None else bve,
                   stopped_early=d["stopped_early"], seconds=d.get("seconds", 0.0),
                   updates=d["updates"])


def format_seconds(s: float) -> str:
    return f"{int(s // 60)}m{int(s % 60):02d}s" if s >= 60 else f"{s:.1f}s"


def log_epoch(log: TextIO | None, record: dict, epochs: int,
              patience_left: int | None = None) -> None:
    """One progress line: the record, and the time left at the mean epoch time, to
    the epoch cap and, with early stopping, to the latest epoch it can stop at
    (patience_left epochs more without a better one)."""
    epoch = record["epoch"]
    per_epoch = record["seconds"] / epoch
    eta = f"ETA {format_seconds(per_epoch * (epochs - epoch))} to the cap"
    if patience_left is not None and patience_left < epochs - epoch:
        eta += (f", {format_seconds(per_epoch * patience_left)} if no better epoch comes "
                "(early stopping)")
    valid = f"  valid {record['valid_error']:.2%}" if "valid_error" in record else ""
    match = (f"  match {record['match_objective']:.4f}/{record['target_objective']:.4f}"
             if "match_objective" in record else "")
    print(f"epoch {epoch}/{epochs}  loss {record['loss']:.4f}  train "
          f"{record['train_error']:.2%}{valid}{match}  lr {record['lr']:.4g}  "
          f"mom {record['momentum']:.3f}  {format_seconds(record['seconds'])}  {eta}",
          file=log, flush=True)

