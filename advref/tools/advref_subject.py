"""advref itself as a conformance subject (advref.tools.conformance): every method of
the subject protocol, computed by advref's own models and attacks from the weights a
vector case holds. Name it as `--impl advref.tools.conformance:ADVREF` (the default).
"""

from __future__ import annotations

from advref import models
from advref.attacks.fast_gradient import fgsm
from advref.attacks.iterative import iterative_fgsm, random_step_fgsm
from advref.attacks.minimal import linear_minimal_perturbation
from advref.tools.vectors import NORMS
from advref.training.closed_form_logistic import adversarial_logistic_loss
from advref.training.virtual_adversarial import kl_between_scores, vat_penalty


class AdvrefSubject:
    """advref itself as a subject: rebuilds the model from the weights."""

    @staticmethod
    def _model(kind, config, weights):
        model = models.model_classes()[kind](**config)
        for k, v in weights.items():
            model.params[k] = v.copy()
        return model

    def loss_grad(self, kind, config, weights, x, y):
        return self._model(kind, config, weights).loss_grad(x, y)

    def param_gradients(self, kind, config, weights, x, y):
        return self._model(kind, config, weights).loss_and_grads(x, y)[1]

    def fgsm(self, kind, config, weights, x, y, eps, norm, targeted, clip):
        return fgsm(self._model(kind, config, weights), x, eps, y=y, norm=NORMS[norm],
                    targeted=targeted, clip=clip)

    def iterative_fgsm(self, kind, config, weights, x, y, eps, steps, step_size, targeted,
                       clip):
        return iterative_fgsm(self._model(kind, config, weights), x, eps, y=y, steps=steps,
                              step_size=step_size, targeted=targeted, clip=clip)

    def random_step_fgsm(self, kind, config, weights, x, y, eps, alpha, signs, targeted,
                         clip):
        return random_step_fgsm(self._model(kind, config, weights), x, eps, y=y, alpha=alpha,
                                signs=signs, targeted=targeted, clip=clip)

    def vat(self, kind, config, weights, x, r):
        model = self._model(kind, config, weights)
        z_clean = model.forward(x)[0]
        kl = kl_between_scores(z_clean, model.forward(x + r)[0])[0]
        return kl, vat_penalty(model, x, r, z_clean)[1]

    def adversarial_logistic_loss(self, weights, x, y, eps):
        model = self._model("LogisticRegression", {"n_features": x.shape[1]}, weights)
        return adversarial_logistic_loss(model, x, y, eps)[0]

    def minimal_distance(self, weights, x, norm):
        return linear_minimal_perturbation(weights["W"][:, 0], weights["b"][0], x,
                                           norm=NORMS[norm])[1]


ADVREF = AdvrefSubject()
