"""Checking an implementation against a conformance vector set (advref.tools.vectors).

An implementation is checked through a `Subject`: an object with any of
    loss_grad(kind, config, weights, x, y) -> (losses, d_x)
    param_gradients(kind, config, weights, x, y) -> {param: d mean loss / d param}
    fgsm(kind, config, weights, x, y, eps, norm, targeted, clip) -> x_adv
    iterative_fgsm(kind, config, weights, x, y, eps, steps, step_size, targeted,
                   clip) -> x_adv
    random_step_fgsm(kind, config, weights, x, y, eps, alpha, signs, targeted,
                     clip) -> x_adv
    vat(kind, config, weights, x, r) -> (kl (n,), {param: d mean KL / d param})
    adversarial_logistic_loss(weights, x, y, eps) -> mean loss
    minimal_distance(weights, x, norm) -> (n,)
(norm is "inf", "2" or "1"; clip None or (0.0, 1.0)); the checker compares what
it offers with the references and reports the worst error against a tolerance.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np

from advref import models
from advref.attacks.fast_gradient import fgsm
from advref.attacks.iterative import iterative_fgsm, random_step_fgsm
from advref.attacks.minimal import linear_minimal_perturbation
from advref.tools.vector_files import read_case, read_manifest
from advref.tools.vectors import (
    EPS,
    FORMAT,
    ITERATIVE,
    NORMS,
    RANDOM_STEP,
    TOLERANCE,
    VERSION,
)
from advref.training.closed_form_logistic import adversarial_logistic_loss
from advref.training.virtual_adversarial import kl_from_scores, vat_penalty


def load_subject(spec):
    """The object named by "module:attribute" (or a module with the functions)."""
    module, _, attribute = spec.partition(":")
    try:
        obj = importlib.import_module(module)
    except ImportError as err:
        raise ValueError(f"--impl names a module that cannot be imported: {module!r} "
                         f"({err})") from None
    if attribute:
        if not hasattr(obj, attribute):
            raise ValueError(f"--impl: module {module} has no {attribute!r}.")
        obj = getattr(obj, attribute)
    return obj


def _worst(got, want):
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    if got.shape != want.shape:
        return float("inf"), False
    err = np.abs(got - want)
    ok = bool(np.all(err <= TOLERANCE["atol"] + TOLERANCE["rtol"] * np.abs(want)))
    return float(err.max(initial=0.0)), ok


def check(folder, subject) -> list:
    """Rows (case, quantity, worst abs error, passed) for what `subject` implements; a
    method raising NotImplementedError for a case (a model kind it lacks) skips it."""
    folder = Path(folder)
    manifest = read_manifest(folder, FORMAT, VERSION)
    rows = []
    for case in manifest["cases"]:
        data = read_case(folder, case)      # untrusted input: advref.tools.vector_files
        weights = {k[len("weights/"):]: v for k, v in data.items() if k.startswith("weights/")}
        x, y, target = data["x"], data["y"], data["target"]
        args = (case["kind"], case["config"], weights)
        try:
            rows += _check_case(subject, case, data, args, x, y, target, weights)
        except NotImplementedError:
            continue
    return rows


def _check_case(subject, case, data, args, x, y, target, weights):
    """The rows of one case for the methods `subject` offers."""
    rows = []
    if hasattr(subject, "loss_grad"):
        losses, d_x = subject.loss_grad(*args, x, y)
        for q, got in (("losses", losses), ("input_gradient", d_x)):
            rows.append((case["name"], q, *_worst(got, data[f"ref/{q}"])))
    if hasattr(subject, "param_gradients"):
        got = subject.param_gradients(*args, x, y)
        for q in (q for q in case["quantities"] if q.startswith("param_gradient/")):
            rows.append((case["name"], q, *_worst(got[q.split("/")[1]],
                                                  data[f"ref/{q}"])))
    if hasattr(subject, "vat") and "vat/kl" in case["quantities"]:
        kl, grads = subject.vat(*args, x, data["ref/vat/r"])
        rows.append((case["name"], "vat/kl", *_worst(kl, data["ref/vat/kl"])))
        for q in (q for q in case["quantities"] if q.startswith("vat/param_gradient/")):
            rows.append((case["name"], q, *_worst(grads[q.split("/")[2]],
                                                  data[f"ref/{q}"])))
    if case["kind"] == "LogisticRegression":
        if hasattr(subject, "adversarial_logistic_loss"):
            got = subject.adversarial_logistic_loss(weights, x, y, EPS)
            rows.append((case["name"], "adversarial_logistic_loss",
                         *_worst(got, data["ref/adversarial_logistic_loss"])))
        if hasattr(subject, "minimal_distance"):
            for norm in ("2", "inf"):
                q = f"minimal_distance/{norm}"
                rows.append((case["name"], q, *_worst(subject.minimal_distance(
                    weights, x, norm), data[f"ref/{q}"])))
    if hasattr(subject, "fgsm"):
        for q in (q for q in case["quantities"] if q.startswith("fgsm/")):
            _, norm, mode, clip = q.split("/")
            targeted = mode == "targeted"
            got = subject.fgsm(*args, x, target if targeted else y, EPS, norm, targeted,
                               (0.0, 1.0) if clip == "clip" else None)
            rows.append((case["name"], q, *_worst(got, data[f"ref/{q}"])))
    if hasattr(subject, "iterative_fgsm"):
        for q in (q for q in case["quantities"] if q.startswith("iterative/")):
            _, mode, clip = q.split("/")
            targeted = mode == "targeted"
            got = subject.iterative_fgsm(*args, x, target if targeted else y, EPS,
                                         ITERATIVE["steps"], ITERATIVE["step_size"], targeted,
                                         (0.0, 1.0) if clip == "clip" else None)
            rows.append((case["name"], q, *_worst(got, data[f"ref/{q}"])))
    if hasattr(subject, "random_step_fgsm"):
        for q in (q for q in case["quantities"]
                  if q.startswith("random_step/") and q != "random_step/signs"):
            _, mode, clip = q.split("/")
            targeted = mode == "targeted"
            got = subject.random_step_fgsm(*args, x, target if targeted else y, EPS,
                                           RANDOM_STEP["alpha"], data["ref/random_step/signs"],
                                           targeted, (0.0, 1.0) if clip == "clip" else None)
            rows.append((case["name"], q, *_worst(got, data[f"ref/{q}"])))
    return rows


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
        p = model.predict_proba(x)
        kl = kl_from_scores(p, model.forward(x + r)[0])[0]
        return kl, vat_penalty(model, x, r, p)[1]

    def adversarial_logistic_loss(self, weights, x, y, eps):
        model = self._model("LogisticRegression", {"n_features": x.shape[1]}, weights)
        return adversarial_logistic_loss(model, x, y, eps)[0]

    def minimal_distance(self, weights, x, norm):
        return linear_minimal_perturbation(weights["W"][:, 0], weights["b"][0], x,
                                           norm=NORMS[norm])[1]


ADVREF = AdvrefSubject()


def table(rows) -> str:
    lines = [f"{'case':24s} {'quantity':32s} {'worst abs err':>13s}  result"]
    lines += [f"{c:24s} {q:32s} {e:13.3e}  {'ok' if ok else 'FAIL'}" for c, q, e, ok in rows]
    failed = sum(not ok for *_, ok in rows)
    lines.append(f"{len(rows) - failed} passed, {failed} failed (tolerance |a - r| <= "
                 f"{TOLERANCE['atol']} + {TOLERANCE['rtol']} |r|, float64)")
    return "\n".join(lines)
