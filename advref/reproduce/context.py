"""What every experiment of a reproduce run shares: data, models, rows."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from advref.data_loaders import train_valid_split
from advref.datasets import load_data
from advref.fitting.spec import array_digest
from advref.reproduce.profiles import trains_on_binary


@dataclass
class Data:
    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    digest: str = ""

    @classmethod
    def load(cls, name, dtype):
        xtr, ytr, xte, yte, k = load_data(name, np.dtype(dtype))
        return cls(name, xtr, ytr, xte, yte, k, array_digest(xtr, ytr))

    def split(self, n_valid):
        return train_valid_split(self.x_train, self.y_train,
                                 min(n_valid, len(self.x_train) // 5))


def _measured(value):
    """A float, or None where nothing was measured (NaN: e.g. the confidence on
    mistakes when there are none)."""
    if value is None or np.isnan(value):
        return None
    return float(value)


@dataclass
class Context:
    profile: dict
    data: Data
    binary: Data
    cache: object
    seed: int
    rows: list = field(default_factory=list)
    figures: dict = field(default_factory=dict)

    def data_for(self, name):
        """The data model `name` trains and is tested on: its recipe states the kind."""
        return self.binary if trains_on_binary(name) else self.data

    def model(self, name):
        return self.cache.get(name, self.data_for(name))

    def add(self, id, experiment, quantity, paper, measured, unit="%", **params):
        """One result row: the paper's number beside the measured one (fractions
        for unit "%"), with every parameter needed to reproduce it."""
        self.rows.append({"id": id, "experiment": experiment, "quantity": quantity,
                          "paper": paper, "measured": _measured(measured), "unit": unit,
                          "params": params})
