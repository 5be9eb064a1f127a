"""Training and the defences of the paper.

    sgd                    minibatch SGD with momentum, schedules, max-norm, early stopping
    momentum               the momentum update
    checkpoint             resumable training state
    objectives             clean, adversarial (section 6) and noisy training objectives
    monitors               the validation errors early stopping watches
    closed_form_logistic   the closed-form adversarial logistic loss (section 5)
    virtual_adversarial    VAT (Miyato et al.)
    second_stage           the two rules for training on the validation split too
    recipes                the published and this project's training recipes
"""

from .closed_form_logistic import adversarial_logistic, adversarial_logistic_loss
from .history import History
from .objectives import adversarial, clean_objective, noise, objective_value
from .recipes import RECIPES, build_model, get_recipe
from .second_stage import continue_training, retrain, train_two_stage
from .sgd import train
from .virtual_adversarial import vat

__all__ = ["RECIPES", "History", "adversarial", "adversarial_logistic",
           "adversarial_logistic_loss", "build_model", "clean_objective", "continue_training",
           "get_recipe", "noise", "objective_value", "retrain", "train", "train_two_stage",
           "vat"]
