"""The model protocol as types, for type checkers and readers of signatures.

advref's functions take any object with the methods they call (models.base lists
which function needs which), not only subclasses of models.Model. These
Protocols say so to a type checker: a user's own class matches structurally, by
its methods, without inheriting anything.

    Classifier     predict, predict_proba        evaluate, error_rate, transfer, rubbish
    Differentiable + loss_grad                    fgsm and its variants, minimal, subspace
    Trainable      params, weight_names,          train and the training objectives
                   max_col_norm, check_input,
                   loss_and_grads

A training objective is a function (model, x, y, rng) -> (mean loss, grads), a
monitor (model, x, y) -> error rate, and a perturbation for the mixed
objectives (model, x, y, rng) -> x'.

`Seed` is what every `rng=` argument takes (as_generator: an int seed, a
Generator, or None where randomness is not used). `Box` is a clip interval
(low, high), or None for no clipping.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

import numpy as np

from advref.data_loaders.seeding import Seed

Box = tuple[float, float] | None


@runtime_checkable
class Classifier(Protocol):
    """What evaluation needs: class probabilities (n, k) and classes (n,)."""

    def predict(self, x: np.ndarray) -> np.ndarray: ...

    def predict_proba(self, x: np.ndarray) -> np.ndarray: ...


@runtime_checkable
class Differentiable(Classifier, Protocol):
    """What the gradient attacks need: each example's loss and its input gradient."""

    def loss_grad(self, x: np.ndarray, y: np.ndarray, *, train: bool = False,
                  rng: Seed = None) -> tuple[np.ndarray, np.ndarray]: ...



@runtime_checkable
class Trainable(Classifier, Protocol):
    """What advref.train and the objectives need: parameters to update and their
    mean-loss gradient."""

    params: dict[str, np.ndarray]
    weight_names: tuple[str, ...]
    max_col_norm: float | None

    def check_input(self, x: np.ndarray, y: np.ndarray | None = None) -> tuple[Any, Any]: ...

    def loss_and_grads(self, x: np.ndarray, y: np.ndarray, *, train: bool = False,
                       rng: Seed = None) -> tuple[float, dict[str, np.ndarray]]: ...


Grads = dict[str, np.ndarray]
TrainingObjective = Callable[[Any, np.ndarray, np.ndarray, Any], tuple[float, Grads]]
Monitor = Callable[[Any, np.ndarray, np.ndarray], float]
Perturbation = Callable[[Any, np.ndarray, np.ndarray, Any], np.ndarray]

__all__ = ["Box", "Classifier", "Differentiable", "Grads", "Monitor", "Perturbation", "Seed",
           "Trainable", "TrainingObjective"]
