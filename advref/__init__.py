"""advref: "Explaining and Harnessing Adversarial Examples" in pure NumPy.

What the paper does WITH a model: attacks, measurements, training. Everything
here relies on the model protocol (models.base), so a user's own model with
`loss_grad`, `predict` and `predict_proba` plugs in unchanged. SciPy is
imported only by minimal_perturbation, when it runs.

The models and the data loaders are the subpackages advref.models and
advref.data_loaders, so advref claims no import name but its own and works inside
a project that has its own `models` or `data_loaders`. The repository keeps them
at its top level (models/, data_loaders/); the installed distribution maps them
into advref (setup.cfg, package_dir), and a source checkout finds them beside
this folder through the search path below.
"""

import os as _os

if not _os.path.isdir(_os.path.join(__path__[0], "models")):     # a source checkout
    __path__.append(_os.path.dirname(__path__[0]))

from advref._allocator import retain_freed_memory
from advref.analysis.geometry import adversarial_subspace, cross_section, fgsm_plane, logit_path
from advref.analysis.metrics import error_rate, evaluate
from advref.analysis.transferability import transfer
from advref.attacks.fast_gradient import fgsm, optimize_linear
from advref.attacks.iterative import iterative_fgsm, random_step_fgsm
from advref.attacks.minimal import MinimalResult, linear_minimal_perturbation, minimal_perturbation
from advref.attacks.noise import random_sign, random_uniform
from advref.attacks.rubbish import rubbish_report, rubbish_samples
from advref.training.sgd import train

__version__ = "0.1.0"

__all__ = [
    "MinimalResult", "adversarial_subspace", "cross_section", "error_rate", "evaluate", "fgsm",
    "fgsm_plane", "iterative_fgsm", "linear_minimal_perturbation", "logit_path",
    "minimal_perturbation", "optimize_linear", "random_sign", "random_step_fgsm",
    "random_uniform", "retain_freed_memory", "rubbish_report", "rubbish_samples", "train",
    "transfer",
]
