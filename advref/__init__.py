"""advref: "Explaining and Harnessing Adversarial Examples" in pure NumPy.

What the paper does WITH a model: attacks, measurements, training. Everything
here relies on the model protocol (models.base), so a user's own model with
`loss_grad`, `predict` and `predict_proba` plugs in unchanged. SciPy is
imported only by minimal_perturbation, when it runs.
"""

from .evaluate import error_rate, evaluate
from .fgsm import fgsm, optimize_linear
from .geometry import adversarial_subspace, cross_section, fgsm_plane, logit_path
from .minimal import MinimalResult, linear_minimal_perturbation, minimal_perturbation
from .noise import random_sign, random_uniform
from .rubbish import rubbish_report, rubbish_samples
from .train import train
from .transfer import transfer

__version__ = "0.1.0"

__all__ = [
    "MinimalResult", "adversarial_subspace", "cross_section", "error_rate", "evaluate", "fgsm",
    "fgsm_plane", "linear_minimal_perturbation", "logit_path", "minimal_perturbation",
    "optimize_linear", "random_sign", "random_uniform", "rubbish_report", "rubbish_samples",
    "train", "transfer",
]
