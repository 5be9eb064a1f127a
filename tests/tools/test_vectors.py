"""Conformance vectors: regenerated bit for bit, passed by advref, failed by a wrong
implementation with a clear report; references checked against exact arithmetic."""

import json
from fractions import Fraction

import numpy as np
import pytest

from advref.cli.parser import main
from advref.tools.conformance import ADVREF, check
from advref.tools.vectors import EPS, generate


def test_vectors_regenerate_bit_identically(vectors, tmp_path):
    generate(tmp_path)
    assert (tmp_path / "manifest.json").read_bytes() == (vectors / "manifest.json").read_bytes()
    for case in json.loads((vectors / "manifest.json").read_text())["cases"]:
        assert (tmp_path / case["file"]).read_bytes() == (vectors / case["file"]).read_bytes()


def test_advref_passes_its_own_vectors(vectors, capsys):
    rows = check(vectors, ADVREF)
    assert rows and all(r.status == "ok" for r in rows)
    # advref offers every method, so every reference is checked, each once; the
    # two inputs stored beside them (VAT's r, R+FGSM's signs) are not answers
    checked = [(r.case, r.quantity) for r in rows]
    manifest = json.loads((vectors / "manifest.json").read_text())
    answers = [(c["name"], q) for c in manifest["cases"] for q in c["quantities"]
               if q not in ("vat/r", "random_step/signs")]
    assert sorted(checked) == sorted(answers) and len(set(checked)) == len(checked)
    assert main(["vectors", "--check", str(vectors)]) == 0
    assert "0 failed" in capsys.readouterr().out


class OneCoordinateL1:
    """Wrong on purpose: the whole L1 budget on one coordinate (no sharing of ties),
    computed in float32 (a tiny gradient underflows to no step)."""

    def fgsm(self, kind, config, weights, x, y, eps, norm, targeted, clip):
        x_adv = ADVREF.fgsm(kind, config, weights, x, y, eps, norm, targeted, clip)
        if norm != "1":
            return x_adv
        step = (x_adv - x).astype(np.float32)
        out = np.zeros_like(step)
        j = np.abs(step).argmax(axis=1)
        rows = np.arange(len(x))
        out[rows, j] = np.sign(step[rows, j]) * np.float32(eps) * (np.abs(step[rows, j]) > 0)
        result = x + out
        return result if clip is None else np.clip(result, *clip)


def test_a_wrong_implementation_fails_with_a_clear_report(vectors, capsys, monkeypatch):
    rows = check(vectors, OneCoordinateL1())
    failed = {(r.case, r.quantity) for r in rows if r.status == "FAIL"}
    assert ("softmax-l1-ties", "fgsm/1/untargeted/noclip") in failed
    assert all(q.startswith("fgsm/1/") for _, q in failed)
    import sys
    import types

    module = types.ModuleType("wrong_impl")
    module.SUBJECT = OneCoordinateL1()
    monkeypatch.setitem(sys.modules, "wrong_impl", module)
    assert main(["vectors", "--check", str(vectors), "--impl", "wrong_impl:SUBJECT"]) == 1
    report = capsys.readouterr().out
    assert "FAIL" in report and "softmax-l1-ties" in report and " failed, 0 errors" in report


def test_logistic_fgsm_references_equal_exact_arithmetic(vectors):
    with np.load(vectors / "logistic.npz") as npz:
        x, y, w = npz["x"], npz["y"], npz["weights/W"][:, 0]
        ref = npz["ref/fgsm/inf/untargeted/noclip"]
    eps = Fraction(EPS)
    for row, label, adv in zip(x, y, ref, strict=True):
        s = 2 * int(label) - 1
        # by hand: x - eps * s * sign(w), each sum rounded once to the nearest float
        expected = [float(Fraction(v) - s * eps * int(np.sign(wi))) for v, wi in zip(row, w,
                                                                                    strict=True)]
        assert adv.tolist() == expected


@pytest.mark.parametrize("mode", ["untargeted", "targeted"])
@pytest.mark.parametrize("clip", ["clip", "noclip"])
def test_iterative_references_follow_the_definition_step_by_step(vectors, mode, clip):
    """Each iterative reference recomputed here: the case's model rebuilt from its
    weights, 4 steps of eps/2 along sign(loss_grad) (minus for targeted), each
    projected by np.clip onto [max(x - eps, 0), min(x + eps, 1)] (or the ball alone).
    On logistic regression the gradient's sign never changes, so the path ends on
    FGSM's corner (exact rational arithmetic above); with no gradient it never moves."""
    from advref import models
    from advref.tools.vectors import ITERATIVE

    assert ITERATIVE == {"steps": 4, "step_size": EPS / 2}
    box = (0.0, 1.0) if clip == "clip" else None
    manifest = json.loads((vectors / "manifest.json").read_text())
    assert manifest["iterative"] == ITERATIVE
    for case in manifest["cases"]:
        with np.load(vectors / case["file"]) as npz:
            data = {k: npz[k] for k in npz.files}
        model = models.model_classes()[case["kind"]](**case["config"])
        for k in model.params:
            model.params[k] = data[f"weights/{k}"]
        x = data["x"]
        labels, sign = (data["target"], -1.0) if mode == "targeted" else (data["y"], 1.0)
        low, high = x - EPS, x + EPS
        if box:
            low, high = np.maximum(low, 0.0), np.minimum(high, 1.0)
        z = x.copy()
        for _ in range(4):
            z = np.clip(z + sign * (EPS / 2) * np.sign(model.loss_grad(z, labels)[1]), low, high)
        ref = data[f"ref/iterative/{mode}/{clip}"]
        assert np.array_equal(ref, z), case["name"]
        if case["kind"] == "LogisticRegression":
            assert np.array_equal(ref, data[f"ref/fgsm/inf/{mode}/{clip}"]), case["name"]
        if case["name"] == "relu-zero-gradient":
            assert np.array_equal(ref, x)


class NoBallProjection:
    """Wrong on purpose: the iterative method clipped to the box only, so its path
    may leave the eps ball."""

    def iterative_fgsm(self, kind, config, weights, x, y, eps, steps, step_size, targeted,
                       clip):
        model = ADVREF._model(kind, config, weights)
        z = x.copy()
        for _ in range(steps):
            z = z + (-1 if targeted else 1) * step_size * np.sign(model.loss_grad(z, y)[1])
            z = z if clip is None else np.clip(z, *clip)
        return z


def test_an_iterative_method_without_the_ball_projection_fails(vectors):
    rows = check(vectors, NoBallProjection())
    failed = {(r.case, r.quantity) for r in rows if r.status == "FAIL"}
    assert {q for _, q in failed} == {f"iterative/{m}/{c}" for m in ("untargeted", "targeted")
                                      for c in ("clip", "noclip")}
    assert ("relu-zero-gradient", "iterative/untargeted/noclip") not in failed


def _rebuilt(vectors, case):
    from advref import models
    with np.load(vectors / case["file"]) as npz:
        data = {k: npz[k] for k in npz.files}
    model = models.model_classes()[case["kind"]](**case["config"])
    for k in model.params:
        model.params[k] = data[f"weights/{k}"]
    return model, data


@pytest.mark.parametrize("mode", ["untargeted", "targeted"])
@pytest.mark.parametrize("clip", ["clip", "noclip"])
def test_random_step_references_follow_the_definition(vectors, mode, clip):
    """Each R+FGSM reference recomputed here: the stored signs are sign(N(0, I)) from
    seed 11; a step of eps/4 along them (clipped to the box), then 3 eps/4 along the
    sign of loss_grad there (minus for targeted), clipped again. On logistic regression
    without the box it is x + eps/4 r + 3 eps/4 s, with s FGSM's direction."""
    from advref.tools.vectors import RANDOM_STEP

    assert RANDOM_STEP == {"alpha": EPS / 4}
    manifest = json.loads((vectors / "manifest.json").read_text())
    assert manifest["random_step"] == RANDOM_STEP
    for case in manifest["cases"]:
        model, data = _rebuilt(vectors, case)
        x, r = data["x"], data["ref/random_step/signs"]
        assert np.array_equal(r, np.sign(np.random.default_rng(11).standard_normal(x.shape)))
        assert set(np.unique(r)) == {-1.0, 1.0}
        labels, sign = (data["target"], -1.0) if mode == "targeted" else (data["y"], 1.0)
        start = x + (EPS / 4) * r
        start = np.clip(start, 0.0, 1.0) if clip == "clip" else start
        z = start + sign * (3 * EPS / 4) * np.sign(model.loss_grad(start, labels)[1])
        z = np.clip(z, 0.0, 1.0) if clip == "clip" else z
        ref = data[f"ref/random_step/{mode}/{clip}"]
        assert np.array_equal(ref, z), case["name"]
        if case["kind"] == "LogisticRegression" and clip == "noclip":
            s = (data[f"ref/fgsm/inf/{mode}/noclip"] - x) / EPS
            np.testing.assert_allclose(ref, x + (EPS / 4) * r + (3 * EPS / 4) * s, rtol=0,
                                       atol=1e-15)
        if case["name"] == "relu-zero-gradient":
            assert np.array_equal(ref, start)


class RandomStepWrong:
    """Wrong on purpose, one way per instance: the random start left unclipped, or
    the gradient step given the whole eps instead of eps - alpha."""

    def __init__(self, fault):
        self.fault = fault

    def random_step_fgsm(self, kind, config, weights, x, y, eps, alpha, signs, targeted,
                         clip):
        model = ADVREF._model(kind, config, weights)
        start = x + alpha * signs
        if clip is not None and self.fault != "unclipped start":
            start = np.clip(start, *clip)
        rest = eps if self.fault == "whole eps" else eps - alpha
        z = start + (-1 if targeted else 1) * rest * np.sign(model.loss_grad(start, y)[1])
        return z if clip is None else np.clip(z, *clip)


def test_wrong_random_steps_fail_where_they_differ(vectors):
    rows = check(vectors, RandomStepWrong("unclipped start"))
    failed = {(r.case, r.quantity) for r in rows if r.status == "FAIL"}
    # only the boxed quantities can tell, and the cases with inputs on the box do
    assert failed and {q.split("/")[2] for _, q in failed} == {"clip"}
    assert ("logistic", "random_step/untargeted/clip") in failed
    rows = check(vectors, RandomStepWrong("whole eps"))
    failed = {(r.case, r.quantity) for r in rows if r.status == "FAIL"}
    assert ("logistic", "random_step/untargeted/noclip") in failed
    assert all(q.startswith("random_step/") for _, q in failed)
    # with no gradient no step is taken, so the two agree there
    assert not any(c == "relu-zero-gradient" for c, _ in failed)


def test_the_edge_cases_are_what_they_claim(vectors):
    with np.load(vectors / "relu-zero-gradient.npz") as npz:
        assert not np.any(npz["ref/input_gradient"])
        assert np.array_equal(npz["ref/fgsm/2/untargeted/noclip"], npz["x"])
    with np.load(vectors / "logistic-tiny-gradient.npz") as npz:
        g = np.abs(npz["ref/input_gradient"])
        assert 0 < g.max() < 1e-290
        step = npz["ref/fgsm/2/untargeted/noclip"] - npz["x"]
        np.testing.assert_allclose(np.linalg.norm(step, axis=1), EPS, rtol=1e-12)
    with np.load(vectors / "softmax-l1-ties.npz") as npz:
        step = npz["ref/fgsm/1/untargeted/noclip"] - npz["x"]
        assert np.all(np.count_nonzero(step, axis=1) > 1)     # the budget is shared
        np.testing.assert_allclose(np.abs(step).sum(axis=1), EPS, rtol=1e-12)
    with np.load(vectors / "softmax-saturated.npz") as npz:
        assert npz["ref/losses"].max() > 10


def test_vat_references_against_a_hand_kl_and_finite_differences(vectors):
    from advref import models
    from advref.tools.gradient_audit import numeric_gradient

    with np.load(vectors / "softmax.npz") as npz:
        W, b, x, r = npz["weights/W"], npz["weights/b"], npz["x"], npz["ref/vat/r"]
        kl_ref, dW_ref = npz["ref/vat/kl"], npz["ref/vat/param_gradient/W"]
    np.testing.assert_allclose(np.linalg.norm(r, axis=1), EPS, rtol=1e-14)

    def softmax(z):
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    p = softmax(x @ W + b)                      # held constant

    def mean_kl(Wv=W):
        q = softmax((x + r) @ Wv + b)
        return (p * np.log(p / q)).sum(axis=1).mean()

    q = softmax((x + r) @ W + b)
    np.testing.assert_allclose(kl_ref, (p * np.log(p / q)).sum(axis=1), rtol=1e-10)
    W_var = W.copy()
    numeric = numeric_gradient(lambda: mean_kl(W_var), W_var)
    np.testing.assert_allclose(dW_ref, numeric, rtol=1e-5, atol=1e-10)
    assert models.SoftmaxRegression(6, 3).output.name == "softmax"


def test_logistic_closed_forms_by_hand(vectors):
    with np.load(vectors / "logistic.npz") as npz:
        w, b, x, y = npz["weights/W"][:, 0], npz["weights/b"][0], npz["x"], npz["y"]
        loss = float(npz["ref/adversarial_logistic_loss"])
        d2, dinf = npz["ref/minimal_distance/2"], npz["ref/minimal_distance/inf"]
    s = 2 * y - 1
    score = x @ w + b
    np.testing.assert_allclose(loss, np.mean(np.log1p(np.exp(-s * score + EPS * np.abs(w).sum()))),
                               rtol=1e-13)
    np.testing.assert_allclose(d2, np.abs(score) / np.linalg.norm(w), rtol=1e-13)
    np.testing.assert_allclose(dinf, np.abs(score) / np.abs(w).sum(), rtol=1e-13)


def test_cases_a_subject_does_not_implement_are_skipped_with_the_reason(vectors):
    class LinearOnly:
        def loss_grad(self, kind, config, weights, x, y):
            if kind != "SoftmaxRegression":
                raise NotImplementedError(f"no {kind} here")
            return ADVREF.loss_grad(kind, config, weights, x, y)

    rows = check(vectors, LinearOnly())
    manifest = json.loads((vectors / "manifest.json").read_text())
    answers = {(c["name"], q) for c in manifest["cases"] for q in c["quantities"]
               if q not in ("vat/r", "random_step/signs")}
    assert {(r.case, r.quantity) for r in rows} == answers     # every quantity has a row
    linear = {c["name"] for c in manifest["cases"] if c["kind"] == "SoftmaxRegression"}
    ok = {(r.case, r.quantity) for r in rows if r.status == "ok"}
    assert ok == {(c, q) for c in linear for q in ("losses", "input_gradient")}
    by_reason = {r.detail for r in rows if r.status == "SKIPPED"}
    assert "loss_grad raised NotImplementedError: no MLP here" in by_reason
    assert "the subject has no fgsm" in by_reason
    assert all(r.status in ("ok", "SKIPPED") for r in rows)
