"""Analysis: measuring what attacks do.

    metrics          error rate and the paper's confidences
    transferability  how one model's adversarial examples fool others
    geometry         logit paths, cross-sections, adversarial subspaces
"""

from .geometry import adversarial_subspace, cross_section, fgsm_plane, logit_path
from .metrics import error_rate, evaluate
from .transferability import transfer

__all__ = ["adversarial_subspace", "cross_section", "error_rate", "evaluate", "fgsm_plane",
           "logit_path", "transfer"]
