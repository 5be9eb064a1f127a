"""Attacks: what an adversary does to an input, given only the model protocol.

    fast_gradient  FGSM and its L2 / L1 variants (one step of the linear view)
    iterative      the basic iterative method / PGD and R+FGSM (L_inf, several steps)
    minimal        Szegedy's box-constrained L-BFGS-B smallest perturbation
    rubbish        rubbish-class (fooling) samples and how often they fool
    noise          random sign and uniform noise: the controls for FGSM
"""

from .fast_gradient import fgsm, optimize_linear
from .iterative import iterative_fgsm, random_step_fgsm
from .minimal import MinimalResult, linear_minimal_perturbation, minimal_perturbation
from .noise import random_sign, random_uniform
from .rubbish import rubbish_report, rubbish_samples

__all__ = ["MinimalResult", "fgsm", "iterative_fgsm", "linear_minimal_perturbation",
           "minimal_perturbation", "optimize_linear", "random_sign", "random_step_fgsm",
           "random_uniform", "rubbish_report", "rubbish_samples"]
