"""Hand-written NumPy models with manual backprop, following advref's model protocol.

Imports NumPy and the standard library only (and data_loaders' atomic write).
"""

from .base import Model
from .ensemble import Ensemble
from .linear import LogisticRegression, SoftmaxRegression
from .maxout import MaxoutMLP
from .mlp import MLP
from .persist import ModelFileError, load, model_classes, params_digest, save
from .rbf import RBFNetwork

__all__ = ["MLP", "Ensemble", "LogisticRegression", "MaxoutMLP", "Model", "ModelFileError",
           "RBFNetwork", "SoftmaxRegression", "load", "model_classes", "params_digest", "save"]
