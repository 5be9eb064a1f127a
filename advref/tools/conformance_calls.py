"""Which subject method answers which quantity of a vector case, and with what inputs.

calls(case, data) lists (method, quantities, inputs, split): the checker calls
`method` with the values of the ordered dict `inputs` (copies), and split(answer)
maps the answer to {quantity: array}. The quantities' names are those of
advref.tools.vectors; the signatures are the subject protocol of
advref.tools.conformance.
"""

from __future__ import annotations

from advref.tools.vectors import EPS, ITERATIVE, RANDOM_STEP

BOX = (0.0, 1.0)


def _pair(first, second):
    def split(answer):
        a, b = answer
        return {first: a, second: b}
    return split


def _one(quantity):
    return lambda answer: {quantity: answer}


def _by_param(quantities, depth):
    """{q: answer[param]} for quantities ".../param", the param at position depth."""
    return lambda answer: {q: answer[q.split("/")[depth]] for q in quantities}


def _vat_split(quantities):
    def split(answer):
        kl, grads = answer
        return {"vat/kl": kl, **_by_param(quantities[1:], 2)(grads)}
    return split


def _attack_inputs(base, data, mode, clip, *middle):
    targeted = mode == "targeted"
    labels = data["target"] if targeted else data["y"]
    return {**base, "x": data["x"], "y": labels, "eps": EPS, **dict(middle),
            "targeted": targeted, "clip": BOX if clip == "clip" else None}


def calls(case, data) -> list:
    quantities = case["quantities"]
    base = {"kind": case["kind"], "config": case["config"],
            "weights": {k[len("weights/"):]: v for k, v in data.items()
                        if k.startswith("weights/")}}
    x, y = data["x"], data["y"]
    out = [("loss_grad", ["losses", "input_gradient"], {**base, "x": x, "y": y},
            _pair("losses", "input_gradient"))]
    params = [q for q in quantities if q.startswith("param_gradient/")]
    out.append(("param_gradients", params, {**base, "x": x, "y": y}, _by_param(params, 1)))
    if "vat/kl" in quantities:
        vat = ["vat/kl"] + [q for q in quantities if q.startswith("vat/param_gradient/")]
        out.append(("vat", vat, {**base, "x": x, "r": data["ref/vat/r"]}, _vat_split(vat)))
    if "adversarial_logistic_loss" in quantities:
        q = "adversarial_logistic_loss"
        out.append((q, [q], {"weights": base["weights"], "x": x, "y": y, "eps": EPS},
                    _one(q)))
    for q in (q for q in quantities if q.startswith("minimal_distance/")):
        out.append(("minimal_distance", [q], {"weights": base["weights"], "x": x,
                                              "norm": q.split("/")[1]}, _one(q)))
    for q in (q for q in quantities if q.startswith("fgsm/")):
        _, norm, mode, clip = q.split("/")
        inputs = _attack_inputs(base, data, mode, clip, ("norm", norm))
        # the protocol's order: ..., x, y, eps, norm, targeted, clip
        out.append(("fgsm", [q], inputs, _one(q)))
    for q in (q for q in quantities if q.startswith("iterative/")):
        _, mode, clip = q.split("/")
        inputs = _attack_inputs(base, data, mode, clip, ("steps", ITERATIVE["steps"]),
                                ("step_size", ITERATIVE["step_size"]))
        out.append(("iterative_fgsm", [q], inputs, _one(q)))
    for q in (q for q in quantities
              if q.startswith("random_step/") and q != "random_step/signs"):
        _, mode, clip = q.split("/")
        inputs = _attack_inputs(base, data, mode, clip, ("alpha", RANDOM_STEP["alpha"]),
                                ("signs", data["ref/random_step/signs"]))
        out.append(("random_step_fgsm", [q], inputs, _one(q)))
    return out
