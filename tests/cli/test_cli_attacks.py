"""The attack commands end to end, on models trained on the bundled sample."""

import json
import subprocess
import sys

import numpy as np
import pytest

from advref import __version__, evaluate, fgsm, models, rubbish_report, rubbish_samples, transfer
from advref.attacks.lbfgsb_steps import reverse_communication_works
from advref.attacks.minimal import minimal_perturbation
from advref.attacks.minimal_processes import usable_cpus
from advref.cli.parser import main
from advref.data_loaders import load_mnist_sample


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    paths = {}
    for name in ("softmax", "rbf"):
        paths[name] = folder / f"{name}.npz"
        assert main(["train", name, "--data", "sample", "--epochs", "3", "--out",
                     str(paths[name])]) == 0
    return paths


def strict(token):
    raise ValueError(f"non-standard JSON token {token}")


def run_json(capsys, argv):
    """The command's --json output, parsed strictly (NaN and Infinity refused)."""
    capsys.readouterr()
    assert main(argv + ["--json"]) == 0
    return json.loads(capsys.readouterr().out, parse_constant=strict)


def test_attack(trained, capsys):
    out = run_json(capsys, ["attack", str(trained["softmax"]), "--eps", "0.25", "--n", "300"])
    assert out["n"] == 300 and out["eps"] == 0.25 and out["clip"] == [0.0, 1.0]
    assert out["data"] == "sample" and len(out["model"]["sha256"]) == 64
    assert out["adversarial"]["error"] > out["clean"]["error"] + 0.3
    targeted = run_json(capsys, ["attack", str(trained["softmax"]), "--targeted", "3",
                                 "--n", "100", "--norm", "2", "--eps", "3"])
    assert targeted["norm"] == 2
    # the CLI's numbers are the library's on the same 100 test images: an L2 step of
    # 3 against softmax's input gradient of the loss of class 3, by hand
    model = models.load(trained["softmax"])
    d = load_mnist_sample(dtype=np.float32)
    x, y = d.x_test[:100], d.y_test[:100]
    W, b = model.params["W"].astype(np.float64), model.params["b"].astype(np.float64)
    z = x @ W + b
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    p[:, 3] -= 1
    g = p @ W.T
    step = -3 * g / np.linalg.norm(g, axis=1, keepdims=True)
    reached = ((np.clip(x + step, 0, 1) @ W + b).argmax(1) == 3).mean()
    assert targeted["target_rate"] == pytest.approx(reached, abs=0.011)   # one image's rounding
    lib = fgsm(model, x, 3.0, y=np.full(100, 3), norm=2, targeted=True)
    assert targeted["target_rate"] == np.mean(model.predict(lib) == 3)
    assert targeted["adversarial"] == evaluate(model, lib, y)


@pytest.mark.scipy
def test_minimal(trained, capsys):
    out = run_json(capsys, ["minimal", str(trained["softmax"]), "--n", "2", "--target", "1"])
    assert out["settings"]["method"] == "L-BFGS-B" and len(out["examples"]) == 2
    # 256 side by side, where this SciPy has the driven interface (>= 1.15)
    assert out["batch_requested"] == 256
    assert out["batch"] == (256 if reverse_communication_works() else None)
    for e in out["examples"]:
        assert e["success"] is False or (e["reached"] == 1 and e["l2"] >= 0)


@pytest.mark.scipy
def test_minimal_as_the_readme_writes_it_uses_its_default_n(trained, capsys):
    """`advref minimal M.npz`, with no --n, searches the first 20 test images (its
    documented default), as the library does on those images."""
    out = run_json(capsys, ["minimal", str(trained["softmax"])])
    assert out["n"] == 20 and len(out["examples"]) == 20
    model = models.load(trained["softmax"])
    d = load_mnist_sample(dtype=model.dtype)
    lib = minimal_perturbation(model, d.x_test[:20], y=d.y_test[:20], clip=(0.0, 1.0))
    assert [e["success"] for e in out["examples"]] == [r.success for r in lib]
    assert "(default: 20)" in subprocess.run(
        [sys.executable, "-m", "advref", "minimal", "--help"], capture_output=True,
        text=True).stdout.replace("\n", " ")


@pytest.mark.scipy
def test_minimal_batched_and_one_at_a_time_are_the_librarys(trained, capsys):
    """The CLI's modes are the library's modes on the same images: batched, by
    default shared among as many processes as there are usable CPUs (at most one
    an image), or in one process, or one at a time."""
    model = models.load(trained["softmax"])
    x = load_mnist_sample(dtype=model.dtype).x_test[:3]
    y = load_mnist_sample(dtype=model.dtype).y_test[:3]
    for flags, batch, processes in ((["--batch", "2"], 2, min(usable_cpus(), 3)),
                                    (["--batch", "2", "--processes", "1"], 2, 1),
                                    (["--batch", "2", "--processes", "3"], 2, 3),
                                    (["--batch", "2", "--processes", "64"], 2, 3),
                                    (["--one-at-a-time"], None, 1)):
        out = run_json(capsys, ["minimal", str(trained["softmax"]), "--data", "sample",
                                "--n", "3", "--target", "4", *flags])
        lib = minimal_perturbation(model, x, y=y, target=4, batch=batch, processes=processes)
        driven = batch is not None and reverse_communication_works()
        assert out["batch_requested"] == batch
        assert out["batch"] == (batch if driven else None)
        assert out["processes"] == (processes if driven else 1)
        assert [e["l2"] for e in out["examples"]] == [r.l2 for r in lib]
        assert [e["iterations"] for e in out["examples"]] == [r.iterations for r in lib]


@pytest.mark.scipy
def test_minimal_summary_is_the_librarys_results_field_by_field(trained, capsys):
    """Every field of `advref minimal --json`, untargeted on 4 sample test images
    (true labels), from the library's results on them; and the printed line."""
    model = models.load(trained["softmax"])
    d = load_mnist_sample(dtype=model.dtype)
    x, y = d.x_test[:4], d.y_test[:4]
    out = run_json(capsys, ["minimal", str(trained["softmax"]), "--data", "sample", "--n", "4",
                            "--batch", "3", "--processes", "2"])
    lib = minimal_perturbation(model, x, y=y, clip=(0.0, 1.0), batch=3, processes=2)
    ok = [r for r in lib if r.success]
    driven = reverse_communication_works()
    examples = [{k: v for k, v in r.summary().items() if k != "settings"} for r in lib]
    assert out["model"]["file"] == str(trained["softmax"])
    assert out["model"]["sha256"] == models.params_digest(model)
    assert {k: v for k, v in out.items() if k not in ("model", "examples", "settings")} == {
        "data": "sample", "n": 4, "target": None, "clip": [0.0, 1.0],
        "batch": 3 if driven else None, "batch_requested": 3, "processes": 2 if driven else 1,
        "success_rate": len(ok) / 4,
        "mean_l2": sum(r.l2 for r in ok) / len(ok), "mean_linf": sum(r.linf for r in ok) / len(ok),
        "mean_iterations": sum(r.iterations for r in lib) / 4}
    assert out["examples"] == json.loads(json.dumps(examples))
    assert out["settings"] == json.loads(json.dumps(lib[0].settings))
    capsys.readouterr()
    assert main(["minimal", str(trained["softmax"]), "--data", "sample", "--n", "4", "--batch",
                 "3", "--processes", "2"]) == 0
    printed = [line for line in capsys.readouterr().out.splitlines() if "success" in line]
    assert printed == [f"success {len(ok) / 4:.1%} of 4; mean L2 {out['mean_l2']:.4f}, mean "
                       f"L_inf {out['mean_linf']:.4f}, mean optimizer iterations "
                       f"{out['mean_iterations']:.0f}"]


@pytest.mark.scipy
@pytest.mark.parametrize("flags, words", [
    (["--processes", "0"], "--processes must be between 1 and 64 processes, got 0 instead."),
    (["--processes", "65"], "--processes must be between 1 and 64 processes, got 65 instead."),
    (["--processes", "2", "--one-at-a-time"], "got --processes 2 with --one-at-a-time."),
])
def test_minimal_refuses_bad_processes_before_reading_the_model(capsys, tmp_path, flags, words):
    """The model file does not exist: the flags are refused before it is looked for."""
    capsys.readouterr()
    assert main(["minimal", str(tmp_path / "absent.npz"), *flags]) == 2
    err = capsys.readouterr().err
    assert words in err and "absent" not in err


@pytest.mark.scipy
def test_minimal_records_one_at_a_time_where_scipy_cannot_batch(trained, capsys,
                                                                monkeypatch):
    """On a SciPy whose private L-BFGS-B interface is not the driven one (before 1.15)
    the library falls back, warning; the JSON then says batch null, as run."""
    import advref.attacks.minimal as minimal_module

    monkeypatch.setattr(minimal_module, "reverse_communication_works", lambda: False)
    with pytest.warns(RuntimeWarning, match="solved one at a time"):
        out = run_json(capsys, ["minimal", str(trained["softmax"]), "--data", "sample",
                                "--n", "2", "--target", "4", "--batch", "2"])
    assert out["batch"] is None and out["batch_requested"] == 2
    assert out["processes"] == 1          # one at a time runs in this process


def test_rubbish(trained, capsys):
    out = run_json(capsys, ["rubbish", str(trained["rbf"]), "--samples", "500",
                            "--source", "standard-normal", "--eps", "0.25", "--target", "5"])
    assert out["n"] == 500 and len(out["class_histogram"]) == 10
    model = models.load(trained["rbf"])
    samples = rubbish_samples(500, source="standard-normal", rng=0, dtype=model.dtype,
                              x_train=np.zeros((1, 784), model.dtype))
    expected = rubbish_report(model, samples, eps=0.25, target=5)
    assert out["target_rate"] == expected["target_rate"]
    assert out["fooled_rate"] == expected["fooled_rate"]


def test_rubbish_fits_the_gaussian_to_the_chosen_data_and_n(trained, capsys):
    step = ["--eps", "0.05", "--target", "5"]
    out = run_json(capsys, ["rubbish", str(trained["softmax"]), "--samples", "300",
                            "--data", "sample", "--n", "250", *step])
    assert out["fit_on"] == "sample training images (250)"
    model = models.load(trained["softmax"])
    x_fit = load_mnist_sample(dtype=model.dtype).x_train[:250]
    expected = rubbish_report(model, rubbish_samples(300, x_train=x_fit, rng=0), eps=0.05,
                              target=5)
    assert out["target_rate"] == expected["target_rate"]
    other = run_json(capsys, ["rubbish", str(trained["softmax"]), "--samples", "300",
                              "--data", "sample", "--n", "50", *step])
    assert other["fit_on"] == "sample training images (50)"
    assert other["target_rate"] != out["target_rate"]      # another fit, other samples


def test_transfer(trained, capsys):
    out = run_json(capsys, ["transfer", str(trained["softmax"]), str(trained["rbf"]),
                            "--n", "200"])
    target = out["targets"][str(trained["rbf"])]
    assert len(out["models"]) == 2
    source, rbf = models.load(trained["softmax"]), models.load(trained["rbf"])
    d = load_mnist_sample(dtype=source.dtype)
    expected = transfer(source, {"t": rbf}, d.x_test[:200], d.y_test[:200], 0.25)
    for key, value in expected["targets"]["t"].items():
        assert target[key] == (None if value != value else value), key


def softmax_by_hand(path, n):
    """The sample's first n test images and the input gradient of softmax's loss,
    computed here in float64 from the file's W and b."""
    model = models.load(path)
    d = load_mnist_sample(dtype=np.float32)
    W, b = model.params["W"].astype(np.float64), model.params["b"].astype(np.float64)

    def grad(x, labels):
        z = x @ W + b
        p = np.exp(z - z.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        p[np.arange(len(x)), labels] -= 1
        return p @ W.T

    def error(x, y):
        return np.mean((x @ W + b).argmax(1) != y)

    return d.x_test[:n].astype(np.float64), d.y_test[:n], grad, error


def test_attack_variants_and_no_clip_are_the_definitions_computed_by_hand(trained, capsys):
    path = str(trained["softmax"])
    x, y, grad, error = softmax_by_hand(path, 100)
    base = ["attack", path, "--n", "100", "--eps", "0.1"]
    out = run_json(capsys, base + ["--no-clip"])
    assert out["clip"] is None and out["method"] == "fgsm"
    assert out["adversarial"]["error"] == pytest.approx(
        error(x + 0.1 * np.sign(grad(x, y)), y), abs=0.011)   # one image's rounding
    out = run_json(capsys, base + ["--method", "iterative", "--steps", "5"])
    low, high = np.maximum(x - 0.1, 0), np.minimum(x + 0.1, 1)
    xa = x.copy()
    for _ in range(5):                                        # steps of 2.5 * .1 / 5
        xa = np.clip(xa + 0.05 * np.sign(grad(xa, y)), low, high)
    assert out["settings"] == {"steps": 5, "step_size": 2.5 * 0.1 / 5, "random_start": False,
                               "rng": 0}
    assert out["adversarial"]["error"] == pytest.approx(error(xa, y), abs=0.011)
    assert run_json(capsys, base + ["--method", "r+fgsm"])["settings"] == {"alpha": 0.05,
                                                                          "rng": 0}
    out = run_json(capsys, base + ["--method", "r+fgsm", "--alpha", "0.04", "--seed", "5"])
    assert out["settings"] == {"alpha": 0.04, "rng": 5}
    start = np.clip(x + 0.04 * np.sign(np.random.default_rng(5).standard_normal(x.shape)), 0, 1)
    xr = np.clip(start + 0.06 * np.sign(grad(start, y)), 0, 1)
    assert out["adversarial"]["error"] == pytest.approx(error(xr, y), abs=0.011)


def test_attack_text_output_says_how_to_reproduce_the_variant(trained, capsys):
    capsys.readouterr()
    assert main(["attack", str(trained["softmax"]), "--n", "20", "--method", "iterative",
                 "--steps", "3", "--no-clip"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].startswith("iterative error ")
    params = json.loads(lines[2].removeprefix("reproduce with: "))
    assert params == {"method": "iterative", "eps": 0.25, "norm": "inf", "clip": None,
                      "targeted": None, "data": "sample", "n": 20,
                      "settings": {"steps": 3, "step_size": 2.5 * 0.25 / 3,
                                   "random_start": False, "rng": 0}}


def test_transfer_no_clip_is_the_library_unclipped(trained, capsys):
    out = run_json(capsys, ["transfer", str(trained["softmax"]), str(trained["rbf"]), "--n",
                            "200", "--no-clip"])
    source, rbf = models.load(trained["softmax"]), models.load(trained["rbf"])
    d = load_mnist_sample(dtype=source.dtype)
    expected = transfer(source, {"t": rbf}, d.x_test[:200], d.y_test[:200], 0.25, clip=None)
    assert out["clip"] is None
    assert out["targets"][str(trained["rbf"])]["error"] == expected["targets"]["t"]["error"]


@pytest.mark.parametrize("extra, message", [
    (["--steps", "3"], "--steps belongs to --method iterative, not to --method fgsm"),
    (["--method", "r+fgsm", "--random-start"], "--random-start belongs to --method iterative"),
    (["--method", "iterative", "--alpha", "0.1"], "--alpha belongs to --method r+fgsm"),
    (["--method", "iterative", "--norm", "2"], "L_inf attack: --norm must be inf, got 2"),
    (["--method", "iterative", "--steps", "0"], "steps must be an integer in [1,"),
    (["--method", "r+fgsm", "--alpha", "0.5"], "alpha must be <= eps"),
])
def test_attack_variant_options_are_checked(trained, capsys, extra, message):
    assert main(["attack", str(trained["softmax"]), "--n", "5", *extra]) == 2
    assert message in capsys.readouterr().err
    if "must be" not in message:          # the attack's own checks need the model and data
        assert main(["attack", "/no/such/model.npz", *extra]) == 2    # refused before reading
        assert message in capsys.readouterr().err


def test_attack_bad_input(trained, tmp_path, capsys):
    assert main(["attack", str(trained["softmax"]), "--eps", "-0.1"]) == 2
    assert "eps must be >= 0" in capsys.readouterr().err
    not_model = tmp_path / "x.npz"
    np.savez(not_model, a=np.zeros(2))
    assert main(["attack", str(not_model)]) == 2
    assert "not an advref model file" in capsys.readouterr().err
    assert main(["attack", str(trained["softmax"]), "--data", "binary37-sample"]) == 2
    assert "10 classes" in capsys.readouterr().err


def test_version_and_help_texts():
    out = subprocess.run([sys.executable, "-m", "advref", "--version"], capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == f"advref {__version__}"
    helps = subprocess.run([sys.executable, "-m", "advref", "minimal", "--help"],
                           capture_output=True, text=True, check=True).stdout
    flat = " ".join(helps.split())
    assert "(default: 20)" in flat and "(default: all)" not in flat


def test_gradcheck_names_are_trains_and_unknown_names_are_clear(capsys):
    assert main(["gradcheck", "relu"]) == 0
    assert main(["gradcheck", "mlp-relu"]) == 2
    err = capsys.readouterr().err
    assert "mlp-relu" in err and "[]" not in err and "relu, tanh" in err


def test_model_sha256_ignores_timing_metadata(trained, tmp_path, capsys):
    model, extra = models.load(trained["softmax"], with_extra=True)
    copy = tmp_path / "copy.npz"
    models.save(model, copy, extra=dict(extra, seconds=extra["seconds"] + 99.0))
    a = run_json(capsys, ["attack", str(trained["softmax"]), "--n", "10"])
    b = run_json(capsys, ["attack", str(copy), "--n", "10"])
    assert a["model"]["sha256"] == b["model"]["sha256"]
    model.params["b"][0] += 1
    models.save(model, copy, extra=extra)
    assert run_json(capsys, ["attack", str(copy), "--n", "10"])["model"]["sha256"] != \
        a["model"]["sha256"]


def test_attack_with_predicted_labels_is_the_librarys_y_none(trained, capsys):
    """--labels predicted ascends the loss of the model's own predictions, as the
    library's y=None does, and says so; the error is still against the true labels."""
    out = run_json(capsys, ["attack", str(trained["softmax"]), "--n", "200", "--labels",
                            "predicted"])
    assert out["labels"] == "predicted labels"
    model = models.load(trained["softmax"])
    d = load_mnist_sample(dtype=model.dtype)
    x, y = d.x_test[:200], d.y_test[:200]
    x_adv = fgsm(model, x, 0.25)                   # y=None: the model's predictions
    assert out["adversarial"] == evaluate(model, x_adv, y)
    true = run_json(capsys, ["attack", str(trained["softmax"]), "--n", "200"])
    assert true["labels"] == "true labels"
    assert true["adversarial"] == evaluate(model, fgsm(model, x, 0.25, y=y), y)
    assert true["adversarial"] != out["adversarial"]
    assert main(["attack", str(trained["softmax"]), "--labels", "predicted", "--targeted",
                 "3"]) == 2
    assert "--labels chooses whose loss an untargeted attack ascends, got --labels " \
           "predicted with --targeted 3 instead." in capsys.readouterr().err


@pytest.mark.scipy
def test_save_examples_writes_what_the_command_measured(trained, capsys, tmp_path):
    """attack, minimal and rubbish --save-examples: pickle-free files whose arrays are
    the library's on the same inputs and whose params are the command's JSON."""
    model = models.load(trained["softmax"])
    d = load_mnist_sample(dtype=model.dtype)
    out = tmp_path / "fgsm.npz"
    result = run_json(capsys, ["attack", str(trained["softmax"]), "--n", "50",
                               "--save-examples", str(out)])
    with np.load(out, allow_pickle=False) as f:
        saved = {k: f[k] for k in f.files}
    x, y = d.x_test[:50], d.y_test[:50]
    assert np.array_equal(saved["x"], x) and np.array_equal(saved["y"], y)
    assert np.array_equal(saved["x_adv"], fgsm(model, x, 0.25, y=y))
    assert np.array_equal(saved["pred_adv"], model.predict(saved["x_adv"]))
    assert json.loads(str(saved["params"])) == result
    out = tmp_path / "minimal.npz"
    result = run_json(capsys, ["minimal", str(trained["softmax"]), "--n", "2",
                               "--save-examples", str(out)])
    with np.load(out, allow_pickle=False) as f:
        assert f["x_adv"].shape == (2, 784)
        assert f["success"].tolist() == [e["success"] for e in result["examples"]]
        assert np.allclose(np.linalg.norm(f["x_adv"] - f["x"], axis=1)[f["success"]],
                           f["l2"][f["success"]])
    out = tmp_path / "rubbish.npz"
    run_json(capsys, ["rubbish", str(trained["softmax"]), "--samples", "30", "--eps", "0.3",
                      "--target", "2", "--save-examples", str(out)])
    with np.load(out, allow_pickle=False) as f:
        samples = f["samples"]
        assert samples.shape == (30, 784)
        assert np.array_equal(f["stepped"], fgsm(model, samples, 0.3, y=np.full(30, 2),
                                                 targeted=True, clip=None))
    assert main(["attack", str(trained["softmax"]), "--save-examples",
                 str(tmp_path / "no" / "x.npz")]) == 2
    assert "--save-examples" in capsys.readouterr().err
