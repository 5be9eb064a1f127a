"""The trainer's position between updates, as a checkpoint stores it."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class TrainState:
    """The trainer's position; arrays are held by reference, never copied here."""

    epoch: int = 0                 # epochs completed
    batch: int = 0                 # next batch start within the current epoch
    updates: int = 0
    loss_sum: float = 0.0
    waited: int = 0
    finished: bool = False
    seconds: float = 0.0           # wall time spent before this process
    history: dict = field(default_factory=dict)
    rng_state: dict = field(default_factory=dict)
    velocity: dict = field(default_factory=dict)
    best: dict | None = None
    monitor_idx: np.ndarray | None = None
    order: np.ndarray | None = None
