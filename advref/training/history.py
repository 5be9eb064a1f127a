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

import numpy as np


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
    def from_dict(cls, d):
        bve = d["best_valid_error"]
        return cls(epochs=list(d["epochs"]), best_epoch=d["best_epoch"],
                   best_valid_error=float("nan") if bve is None else bve,
                   stopped_early=d["stopped_early"], seconds=d.get("seconds", 0.0),
                   updates=d["updates"])
