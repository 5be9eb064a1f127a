"""Training and the defences of the paper.

    sgd                    minibatch SGD with momentum, schedules, max-norm, early stopping
    momentum               the momentum update
    checkpoint             resumable training state
    objectives             clean, adversarial (section 6) and noisy training objectives
    monitors               the validation errors early stopping watches
    closed_form_logistic   the closed-form adversarial logistic loss (section 5)
    virtual_adversarial    VAT (Miyato et al.)
    second_stage           the two rules for training on the validation split too

Training depends on the model protocol alone; the named recipes, which build
concrete models, are advref.fitting's.
"""

from .closed_form_logistic import adversarial_logistic, adversarial_logistic_loss
from .history import History
from .objectives import adversarial, clean_objective, noise, objective_value
from .second_stage import continue_training, retrain, train_two_stage
from .sgd import train
from .virtual_adversarial import vat

__all__ = ["History", "adversarial", "adversarial_logistic", "adversarial_logistic_loss",
           "clean_objective", "continue_training", "noise", "objective_value", "retrain",
           "train", "train_two_stage", "vat"]
