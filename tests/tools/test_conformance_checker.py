"""The conformance checker: a tolerance on each example's own scale, SKIPPED and ERROR
rows with their reasons, worst elements named, inputs copied, --impl and --dtype."""

import json
import sys
import warnings

import numpy as np
import pytest

from advref.cli import main
from advref.tools.conformance import (
    ADVREF,
    check,
    compare,
    load_subject,
    per_example,
    tolerance,
)
from advref.tools.conformance_report import counts, passed, records

F64 = tolerance("float64")


def by_key(rows):
    return {(r.case, r.quantity): r for r in rows}


def test_compare_scales_each_example_by_its_own_largest_reference():
    want = np.array([[1e-304, -2e-304], [1.0, 0.5]])
    status, _, detail = compare(np.array([[0.0, 0.0], [1.0, 0.5]]), want, F64, rows=True)
    assert status == "FAIL" and detail == "worst at [0, 1]: got 0.0, expected -2e-304"
    assert compare(want * (1 + 1e-13), want, F64, rows=True)[0] == "ok"
    # one scale for the whole array: row 0 is then below atol * 1.0 and passes
    assert compare(np.array([[0.0, 0.0], [1.0, 0.5]]), want, F64)[0] == "ok"
    assert compare(np.array([[1e-304, np.nan], [1.0, 0.5]]), want, F64, rows=True)[0] == "FAIL"
    assert compare(np.zeros(3), want, F64, rows=True)[:2] == ("FAIL", None)
    assert compare([["a", "b"], ["c", "d"]], want, F64)[0] == "ERROR"
    # the hand bound: |got - want| <= 1e-12 * 1 + 1e-12 * |want| at row 1's worst entry
    edge = np.array([[1e-304, -2e-304], [1.0, 0.5 + 1.4e-12]])
    assert compare(edge, want, F64, rows=True)[0] == "ok"
    edge[1, 1] = 0.5 + 1.6e-12
    assert compare(edge, want, F64, rows=True)[0] == "FAIL"


class ZeroTinyGradient:
    def loss_grad(self, kind, config, weights, x, y):
        losses, g = ADVREF.loss_grad(kind, config, weights, x, y)
        return losses, np.zeros_like(g) if np.abs(g).max() < 1e-290 else g


def test_an_all_zero_gradient_fails_on_the_tiny_gradient_case(vectors):
    rows = by_key(check(vectors, ZeroTinyGradient()))
    row = rows[("logistic-tiny-gradient", "input_gradient")]
    assert row.status == "FAIL" and row.detail.startswith("worst at [")
    assert "got 0.0, expected " in row.detail and row.worst == 1.0
    assert rows[("logistic", "input_gradient")].status == "ok"


class Unruly:
    """fgsm raises on L1, writes into x on L2; param_gradients is not implemented for
    MLPs; loss_grad returns one array instead of two for the RBF network."""

    def fgsm(self, kind, config, weights, x, y, eps, norm, targeted, clip):
        if norm == "1":
            raise RuntimeError("no L1 here")
        if kind == "RBFNetwork" and clip is None:
            raise AssertionError             # without a message, as a bare assert gives
        out = ADVREF.fgsm(kind, config, weights, x, y, eps, norm, targeted, clip)
        if norm == "2":
            x[...] = out
        return out

    def param_gradients(self, kind, config, weights, x, y):
        if kind == "MLP":
            raise NotImplementedError("MLPs are not written yet")
        return ADVREF.param_gradients(kind, config, weights, x, y)

    def loss_grad(self, kind, config, weights, x, y):
        answer = ADVREF.loss_grad(kind, config, weights, x, y)
        return answer[0] if kind == "RBFNetwork" else answer


def test_each_method_fails_alone_and_the_run_goes_on(vectors):
    rows = check(vectors, Unruly())
    keyed = by_key(rows)
    for (case, quantity), row in keyed.items():
        if quantity.startswith("fgsm/1/"):
            assert (row.status, row.detail) == ("ERROR", "fgsm raised RuntimeError: no L1 here")
        elif case.startswith("rbf") and quantity.startswith("fgsm/") and "noclip" in quantity:
            assert (row.status, row.detail) == ("ERROR", "fgsm raised AssertionError: "
                                                         "(no message)")
        elif quantity.startswith("fgsm/2/"):
            # where the step is zero (dead ReLUs) the write changes nothing
            moved = case != "relu-zero-gradient"
            assert (row.status, row.detail) == (("ERROR", "fgsm wrote into its input x")
                                                if moved else ("ok", ""))
        elif quantity.startswith("fgsm/inf/"):
            assert row.status == "ok", row      # x was a copy: L2's write reached nothing
        elif quantity.startswith("param_gradient/") and case.startswith(("relu", "tanh")):
            assert row == row.__class__(case, quantity, "SKIPPED", None, "param_gradients "
                                        "raised NotImplementedError: MLPs are not written yet")
        elif quantity in ("losses", "input_gradient") and case.startswith("rbf"):
            assert row.status == "ERROR" and row.detail.startswith(
                "loss_grad returned a malformed answer (ValueError: ")
        elif quantity.startswith(("vat", "iterative", "random_step", "minimal", "adversarial")):
            assert row.status == "SKIPPED" and row.detail.startswith("the subject has no ")
        else:
            assert row.status == "ok", row
    n = counts(rows)
    assert n["ERROR"] > 0 and n["SKIPPED"] > 0 and not passed(rows)
    assert json.loads(json.dumps(records(rows, F64)))["counts"] == n


def test_missing_methods_are_skipped_with_their_names(vectors):
    rows = check(vectors, Unruly())
    skipped = {r.quantity.split("/")[0]: r.detail for r in rows
               if r.status == "SKIPPED" and "no " in r.detail}
    assert skipped == {"iterative": "the subject has no iterative_fgsm",
                       "random_step": "the subject has no random_step_fgsm",
                       "vat": "the subject has no vat",
                       "adversarial_logistic_loss": "the subject has no "
                                                    "adversarial_logistic_loss",
                       "minimal_distance": "the subject has no minimal_distance"}


class Float32:
    """advref's answers rounded to float32, as a float32 implementation would give."""

    def loss_grad(self, kind, config, weights, x, y):
        return tuple(a.astype(np.float32) for a in ADVREF.loss_grad(kind, config, weights,
                                                                      x, y))


def test_dtype_float32_sets_a_tolerance_a_float32_answer_meets(vectors, capsys, monkeypatch):
    assert counts(check(vectors, Float32()))["FAIL"] > 12
    rows = check(vectors, Float32(), tolerance("float32"))
    # what still fails is below float32's range: answers of 1e-56 .. 1e-304 that a
    # float32 implementation returns as 0 (a limit of float32, not an error)
    failed = [r for r in rows if r.status == "FAIL"]
    assert {r.case for r in failed} == {"softmax-saturated", "logistic-tiny-gradient",
                                        "rbf-saturated"}
    for r in failed:
        got, expected = (float(v.split(", ")[0]) for v in r.detail.split(": got ")[1]
                         .split(", expected "))
        assert got == 0 and 0 < abs(expected) < np.finfo(np.float32).smallest_subnormal
    cases = json.loads((vectors / "manifest.json").read_text())["cases"]
    assert counts(rows)["ok"] + len(failed) == 2 * len(cases)      # losses, input_gradient
    module = type(sys)("float32_subject")
    module.SUBJECT = Float32()
    monkeypatch.setitem(sys.modules, "float32_subject", module)
    args = ["vectors", "--check", str(vectors), "--impl", "float32_subject:SUBJECT"]
    assert main(args + ["--dtype", "float32"]) == 1
    out = capsys.readouterr().out
    assert "tolerance |got - expected| <= 1e-05 S + 1e-05 |expected|" in out
    assert out.count(" FAIL ") == len(failed)
    assert main(args + ["--dtype", "float32", "--rtol", "0", "--atol", "1e-300"]) == 1
    out = capsys.readouterr().out
    assert "tolerance |got - expected| <= 1e-300 S + 0 |expected|" in out
    assert out.count(" FAIL ") > len(failed)


@pytest.mark.parametrize("flags, message", [
    (["--rtol", "-1"], "--rtol must be a number in [0, 1), got -1.0"),
    (["--atol", "2"], "--atol must be a number in [0, 1), got 2.0"),
    (["--impl", ""], "--impl must name a module, as module or module:object, got ''"),
    (["--impl", ":SUBJECT"], "--impl must name a module"),
])
def test_bad_checker_flags_are_refused_by_name(vectors, capsys, flags, message):
    assert main(["vectors", "--check", str(vectors), *flags]) == 2
    assert message in capsys.readouterr().err


def test_impl_finds_a_module_in_the_current_folder(vectors, tmp_path, monkeypatch, capsys):
    (tmp_path / "local_subject_mod.py").write_text(
        "from advref.tools.conformance import ADVREF as SUBJECT\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    try:
        assert load_subject("local_subject_mod:SUBJECT") is ADVREF
        assert main(["vectors", "--check", str(vectors), "--impl",
                     "local_subject_mod:SUBJECT", "--json"]) == 0
    finally:
        sys.modules.pop("local_subject_mod", None)
    report = json.loads(capsys.readouterr().out)
    assert report["counts"]["FAIL"] == 0 and report["counts"]["ok"] > 300
    assert str(tmp_path) not in sys.path          # the folder is not left on the path


@pytest.mark.parametrize("source, message", [
    ("raise RuntimeError('no GPU found')\n",
     "--impl: the subject's module 'broken_subject_mod' raised RuntimeError on import: "
     "no GPU found"),
    ("def fgsm(:\n", "--impl: the subject's module 'broken_subject_mod' raised SyntaxError "
                     "on import: "),
    ("x = 1\n", "--impl: module broken_subject_mod has no 'SUBJECT'"),
])
def test_a_subject_that_fails_to_load_is_named_in_one_line(vectors, tmp_path, monkeypatch,
                                                            capsys, source, message):
    (tmp_path / "broken_subject_mod.py").write_text(source)
    monkeypatch.chdir(tmp_path)
    try:
        assert main(["vectors", "--check", str(vectors), "--impl",
                     "broken_subject_mod:SUBJECT"]) == 2
    finally:
        sys.modules.pop("broken_subject_mod", None)
    err = capsys.readouterr().err
    assert err.startswith(f"advref vectors: error: {message}") and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


class WrongSignature:
    """fgsm without the clip parameter; loss_grad returns three values."""

    def fgsm(self, kind, config, weights, x, y, eps, norm, targeted):
        return x

    def loss_grad(self, kind, config, weights, x, y):
        return x, x, x


def test_a_wrong_signature_or_arity_is_that_quantitys_error(vectors):
    rows = check(vectors, WrongSignature())
    fgsm_rows = [r for r in rows if r.quantity.startswith("fgsm/")]
    assert fgsm_rows and all(r.status == "ERROR" and r.detail.startswith(
        "fgsm raised TypeError: ") and "positional argument" in r.detail for r in fgsm_rows)
    grads = [r for r in rows if r.quantity in ("losses", "input_gradient")]
    assert grads and all(r.detail == "loss_grad returned a malformed answer (ValueError: "
                         "too many values to unpack (expected 2))" for r in grads)


class WritesEverything:
    """Every method writes into every array and dict it is given (never into strings
    or numbers, which cannot be written), then answers nothing useful."""

    def _spoil(self, *values):
        for v in values:
            if isinstance(v, np.ndarray):
                v[...] = v + 1
            elif isinstance(v, dict):
                v["spoiled"] = True

    def loss_grad(self, kind, config, weights, x, y):
        self._spoil(config, weights, x, y)

    def param_gradients(self, kind, config, weights, x, y):
        self._spoil(config, weights, x, y)

    def vat(self, kind, config, weights, x, r):
        self._spoil(config, weights, x, r)

    def adversarial_logistic_loss(self, weights, x, y, eps):
        self._spoil(weights, x, y)

    def minimal_distance(self, weights, x, norm):
        self._spoil(weights, x)

    def fgsm(self, kind, config, weights, x, y, eps, norm, targeted, clip):
        self._spoil(config, weights, x, y)

    def iterative_fgsm(self, kind, config, weights, x, y, eps, steps, step_size, targeted,
                       clip):
        self._spoil(config, weights, x, y)

    def random_step_fgsm(self, kind, config, weights, x, y, eps, alpha, signs, targeted,
                         clip):
        self._spoil(config, weights, x, y, signs)


def test_every_input_written_into_is_named_in_the_protocols_order(vectors):
    expected = {"losses": "loss_grad wrote into its input config, weights, x, y",
                "param_gradient": "param_gradients wrote into its input config, weights, x, y",
                "vat": "vat wrote into its input config, weights, x, r",
                "adversarial_logistic_loss": "adversarial_logistic_loss wrote into its input "
                                             "weights, x, y",
                "minimal_distance": "minimal_distance wrote into its input weights, x",
                "fgsm": "fgsm wrote into its input config, weights, x, y",
                "iterative": "iterative_fgsm wrote into its input config, weights, x, y",
                "random_step": "random_step_fgsm wrote into its input config, weights, x, "
                               "y, signs"}
    rows = check(vectors, WritesEverything())
    for r in rows:
        head = "losses" if r.quantity == "input_gradient" else r.quantity.split("/")[0]
        assert (r.status, r.detail) == ("ERROR", expected[head]), r
    assert {r.quantity.split("/")[0] for r in rows} >= set(expected) - {"losses"}


def test_per_example_quantities_are_the_examples_own_answers():
    for q in ("losses", "input_gradient", "fgsm/inf/untargeted/clip", "iterative/targeted/clip",
              "random_step/untargeted/noclip", "vat/kl", "minimal_distance/2"):
        assert per_example(q), q
    for q in ("param_gradient/W", "vat/param_gradient/b", "adversarial_logistic_loss"):
        assert not per_example(q), q


def test_compare_edges_by_hand():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # an all-zero reference is matched exactly: its scale is 0, not 1
        assert compare(np.array([1e-20]), np.array([0.0]), F64)[0] == "FAIL"
        assert compare(np.array([0.0]), np.array([0.0]), F64) == ("ok", 0.0, "")
        assert compare(np.zeros((0, 3)), np.zeros((0, 3)), F64, rows=True) == ("ok", 0.0, "")
        # infinities and NaN fail, without a floating-point warning
        status, worst, detail = compare(np.array([[np.inf, np.nan]]), np.array([[1.0, 2.0]]),
                                        F64, rows=True)
        assert status == "FAIL" and worst == np.inf and detail.startswith("worst at [0, ")
    # the worst error is reported relative to the scale, not clipped at 1
    status, worst, _ = compare(np.array([[2.0, 1.0 + 1e-13]]), np.array([[2.0, 1.0]]), F64,
                               rows=True)
    assert status == "ok" and worst == pytest.approx(0.5e-13, rel=1e-3)
    assert compare([1, 2], [1.0, 2.0], F64) == ("ok", 0.0, "")       # integers convert


def test_tolerance_bounds_and_messages():
    assert tolerance("float32") == {"rtol": 1e-5, "atol": 1e-5}
    assert tolerance("float64", rtol=0, atol=0.5) == {"rtol": 0.0, "atol": 0.5}
    with pytest.raises(ValueError, match=r"^--dtype must be one of float64, float32, got "
                                         r"'float16'\.$"):
        tolerance("float16")
    for name, value in (("rtol", 1.0), ("atol", 1), ("rtol", True), ("atol", "0.1")):
        with pytest.raises(ValueError, match=f"^--{name} must be a number in \\[0, 1\\), got"):
            tolerance("float64", **{name: value})


def test_an_unimportable_module_is_named(vectors, capsys):
    assert main(["vectors", "--check", str(vectors), "--impl", "no_such_subject_mod"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == ("advref vectors: error: --impl names a module that cannot be imported: "
                   "'no_such_subject_mod' (No module named 'no_such_subject_mod')")


def test_the_table_and_the_records_by_hand():
    from advref.tools.conformance import Row
    from advref.tools.conformance_report import table

    rows = [Row("c1", "losses", "ok", 1e-14), Row("c1", "fgsm/1/untargeted/clip", "SKIPPED",
                                                   None, "the subject has no fgsm")]
    lines = table(rows, F64).splitlines()
    assert lines[0] == (f"{'case':26s} {'quantity':32s} {'result':7s} {'worst/S':>10s}  "
                        "detail")
    assert lines[1] == f"{'c1':26s} {'losses':32s} {'ok':7s} {'1.00e-14':>10s}"
    assert lines[2] == (f"{'c1':26s} {'fgsm/1/untargeted/clip':32s} {'SKIPPED':7s} "
                        f"{'':>10s}  the subject has no fgsm")
    assert lines[3].startswith("1 passed, 0 failed, 0 errors, 1 skipped (tolerance")
    assert lines[3].endswith("; float64 defaults unless --rtol/--atol)")
    assert records(rows, F64)["tolerance"]["dtype"] == "float64"
    assert len(lines) == 4
    assert records(rows, F64, "float32") == {
        "tolerance": {"rtol": 1e-12, "atol": 1e-12, "dtype": "float32"},
        "counts": {"ok": 1, "FAIL": 0, "ERROR": 0, "SKIPPED": 1},
        "rows": [{"case": "c1", "quantity": "losses", "status": "ok",
                  "worst_relative_to_scale": 1e-14, "detail": ""},
                 {"case": "c1", "quantity": "fgsm/1/untargeted/clip", "status": "SKIPPED",
                  "worst_relative_to_scale": None, "detail": "the subject has no fgsm"}]}
