"""Conformance vectors: fixed small models and inputs with float64 reference answers,
for auditing any implementation of the paper's maths (advref's own included).

A vector set is a folder of .npz files (no pickle) and a manifest.json:

    manifest.json   {"format": "advref-vectors", "version": 2, "cases": [{"name",
                    "kind", "config", "file", "sha256", "quantities"}]}
    CASE.npz        weights/<param>, x, y, target, and ref/<quantity> arrays

Quantities, for every case:
    losses, input_gradient      each example's loss and d loss / d x (loss_grad)
    param_gradient/<param>      d mean loss / d param, evaluation mode
    fgsm/<norm>/<untargeted|targeted>/<clip|noclip>   x_adv at eps EPS; targeted
                                moves toward `target`; clip is [0, 1]
    iterative/<untargeted|targeted>/<clip|noclip>     the basic iterative method
                                at eps EPS: ITERATIVE["steps"] sign steps of
                                ITERATIVE["step_size"], each projected onto the ball
                                (and the box)
    random_step/<untargeted|targeted>/<clip|noclip>   R+FGSM at eps EPS: a step of
                                RANDOM_STEP["alpha"] along the given signs
                                random_step/signs (+-1, from a seed), then the rest
                                of the budget along the gradient's sign there
for the softmax-output cases VAT with a fixed perturbation: vat/r (L2 norm EPS
per row), vat/kl (each example's KL(p(x) || p(x + r))) and vat/param_gradient/<param>
(d mean KL / d param with p held constant); and for the binary logistic cases
the closed forms: adversarial_logistic_loss
(mean, at eps EPS) and minimal_distance/<2|inf> (distance to the hyperplane).
Edge cases: a saturated softmax, a zero input gradient (a ReLU net whose units
are all dead), a tiny one (a logistic model with a margin of ~700), ties in |g|
for the L1 step, inputs on the clip box, maxout pieces that tie, and three cases
where a probability rounds to 1 and only the exact forms of models/outputs.py get
the gradient's signs (softmax, one-vs-rest sigmoids) or the loss (RBF) right.

advref.tools.conformance checks an implementation against a vector set.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import numpy as np

from advref import models
from advref.attacks.fast_gradient import fgsm
from advref.attacks.iterative import iterative_fgsm, random_step_fgsm
from advref.attacks.minimal import linear_minimal_perturbation
from advref.data_loaders.files import atomic_write_bytes
from advref.training.closed_form_logistic import adversarial_logistic_loss
from advref.training.virtual_adversarial import kl_between_scores, vat_penalty

# version 2: exact references at saturation (models/outputs.py) and saturated cases
# whose FGSM signs the printed softmax - onehot gets wrong
FORMAT, VERSION = "advref-vectors", 2
EPS = 0.125
NORMS = {"inf": np.inf, "2": 2, "1": 1}
# the checker's defaults: |got - expected| <= atol S + rtol |expected|, S = max |expected|
TOLERANCES = {"float64": {"rtol": 1e-12, "atol": 1e-12},
              "float32": {"rtol": 1e-5, "atol": 1e-5}}
# four steps of eps / 2: paths reach the ball's faces and may turn back
ITERATIVE = {"steps": 4, "step_size": EPS / 2}
# a quarter of the budget at random: the gradient step (3/4) can undo it
RANDOM_STEP = {"alpha": EPS / 4}


def _cases():
    """(name, model, x, y): every case, from fixed seeds (deterministic)."""
    rng = np.random.default_rng(20260101)
    x = rng.random((5, 6))
    x[0, :3] = 0.0                                   # on the box
    x[1, 3:] = 1.0
    y3 = np.array([0, 1, 2, 1, 0])
    out = [("logistic", models.LogisticRegression(6, init_scale=1.0, rng=1), x, y3 % 2),
           ("softmax", models.SoftmaxRegression(6, 3, init_scale=1.0, rng=2), x, y3)]
    saturated = models.SoftmaxRegression(6, 3, init_scale=1.0, rng=3)
    saturated.params["W"] *= 60.0
    out.append(("softmax-saturated", saturated, x, y3))
    ties = models.SoftmaxRegression(6, 3, rng=4)
    signs = np.array([1, 1, -1, 1, -1, 1])[:, None]
    ties.params["W"][:] = np.array([[0.5, -0.5, 0.25]] * 6) * signs   # equal |g_i| in a row
    out.append(("softmax-l1-ties", ties, x, y3))
    maxout = models.MaxoutMLP(6, 3, units=(4,), pieces=2, irange=1.0, rng=5)
    maxout.params["W0"][:, 4:] = maxout.params["W0"][:, :4]      # piece 1 equals piece 0
    out.append(("maxout-ties", maxout, x, y3))
    out.append(("relu", models.MLP(6, 3, hidden=(5,), activation="relu", rng=6), x, y3))
    dead = models.MLP(6, 3, hidden=(5,), activation="relu", rng=7)
    dead.params["b0"][:] = -100.0                                 # every unit dead
    out.append(("relu-zero-gradient", dead, x, y3))
    out.append(("tanh", models.MLP(6, 3, hidden=(5,), activation="tanh", rng=8), x, y3))
    out.append(("rbf", models.RBFNetwork(6, 3, gamma_init=0.8, center_noise=0.3, rng=9), x,
                y3))
    tiny = models.LogisticRegression(6, init_scale=1.0, rng=10)
    tiny.params["b"][0] = 700.0                                   # sigma(-700) ~ 1e-304
    out.append(("logistic-tiny-gradient", tiny, x, np.ones(5, np.int64)))
    return out + _saturated_cases(x)


def _saturated_cases(x):
    """Cases where p_y (or sigma(z_y), or 1 - e^-q) rounds to 1 in float64, built so
    that the printed forms (softmax - onehot, sigmoid - onehot, log(1 - e^-q)) get the
    FGSM sign vector, or the loss, wrong; docs/derivations.md section 12."""
    out = []
    signs = models.SoftmaxRegression(6, 3, rng=11)
    # class 0 wins by 40 + 19 sum(x) or so; its large weights on inputs 0-2 are what
    # dz_0 = -(p_1 + p_2) carries into d_x, and softmax - onehot drops
    signs.params["W"][:] = np.array([[20, 1, 0.5], [20, -1, 1], [20, 2, -1],
                                     [0.5, 3, 2], [-0.5, -3, 1], [0, 1, -1]], float)
    signs.params["b"][:] = [40.0, 0.0, 0.0]
    out.append(("softmax-saturated-signs", signs, x, np.zeros(5, np.int64)))
    ovr = models.MaxoutMLP(6, 3, units=(4,), pieces=2, irange=1.0, output="sigmoid-ovr",
                           include_probs=None, scales=None, max_col_norm=None, rng=12)
    ovr.params["W1"] *= 3.0
    # sigma(z_0) rounds to 1, and its dz_0 ~ -e^-40 outweighs the others (~e^-46)
    ovr.params["b1"][:] = [40.0, -46.0, -46.0]
    out.append(("maxout-ovr-saturated", ovr, x, np.zeros(5, np.int64)))
    rbf = models.RBFNetwork(6, 3, gamma_init=20.0, rng=13)
    rbf.params["mu"][:] = np.random.default_rng(14).random((3, 6))
    y = np.array([0, 1, 2, 1, 0])
    # each example on its class centre: q_y = 0, and the loss is the non-target terms
    # -log(1 - e^-q) ~ e^-q alone, which log(1 - e^-q) rounds to 0
    out.append(("rbf-saturated", rbf, rbf.params["mu"][y].copy(), y))
    return out


def _references(model, x, y, target):
    ref = {"random_step/signs": np.sign(np.random.default_rng(11).standard_normal(x.shape))}
    ref["losses"], ref["input_gradient"] = model.loss_grad(x, y)
    _, grads = model.loss_and_grads(x, y)
    ref.update({f"param_gradient/{k}": v for k, v in grads.items()})
    for mode, labels, targeted in (("untargeted", y, False), ("targeted", target, True)):
        for clip_name, clip in (("clip", (0.0, 1.0)), ("noclip", None)):
            for norm_name, norm in NORMS.items():
                ref[f"fgsm/{norm_name}/{mode}/{clip_name}"] = fgsm(
                    model, x, EPS, y=labels, norm=norm, targeted=targeted, clip=clip)
            ref[f"iterative/{mode}/{clip_name}"] = iterative_fgsm(
                model, x, EPS, y=labels, targeted=targeted, clip=clip, **ITERATIVE)
            ref[f"random_step/{mode}/{clip_name}"] = random_step_fgsm(
                model, x, EPS, y=labels, targeted=targeted, clip=clip,
                signs=ref["random_step/signs"], **RANDOM_STEP)
    if getattr(model.output, "name", "") == "softmax":
        # VAT with the perturbation held fixed: r of L2 norm EPS per row, from a seed
        r = np.random.default_rng(7).standard_normal(x.shape)
        r *= EPS / np.linalg.norm(r, axis=1, keepdims=True)
        z_clean = model.forward(x)[0]
        ref["vat/r"] = r
        ref["vat/kl"] = kl_between_scores(z_clean, model.forward(x + r)[0])[0]
        _, vat_grads = vat_penalty(model, x, r, z_clean)
        ref.update({f"vat/param_gradient/{k}": v for k, v in vat_grads.items()})
    if isinstance(model, models.LogisticRegression):
        ref["adversarial_logistic_loss"] = np.array(adversarial_logistic_loss(model, x, y,
                                                                              EPS)[0])
        for norm_name in ("2", "inf"):
            _, ref[f"minimal_distance/{norm_name}"] = linear_minimal_perturbation(
                model.w, model.params["b"][0], x, norm=NORMS[norm_name])
    return ref


def _case_bytes(model, x, y, target, ref):
    arrays = {f"weights/{k}": v for k, v in model.params.items()}
    arrays.update({"x": x, "y": y, "target": target})
    arrays.update({f"ref/{k}": np.asarray(v) for k, v in ref.items()})
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def generate(out) -> dict:
    """Write the vector set to folder `out`; returns the manifest."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    cases = []
    for name, model, x, y in _cases():
        k = model.n_classes
        target = ((y + 1) % k).astype(np.int64)
        ref = _references(model, x, y, target)
        content = _case_bytes(model, x, y, target, ref)
        atomic_write_bytes(out / f"{name}.npz", content)
        cases.append({"name": name, "kind": type(model).__name__, "config": model.config(),
                      "file": f"{name}.npz", "sha256": hashlib.sha256(content).hexdigest(),
                      "quantities": sorted(ref)})
    manifest = {"format": FORMAT, "version": VERSION, "eps": EPS, "iterative": ITERATIVE,
                "random_step": RANDOM_STEP,
                "tolerance": TOLERANCES, "cases": cases}
    atomic_write_bytes(out / "manifest.json",
                       (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode())
    return manifest
