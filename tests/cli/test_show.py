"""`advref show`: the picture of one FGSM example or of a saved one, its JSON, and
every bad argument refused by name before anything is written."""

import json

import numpy as np
import pytest

from advref import models
from advref.attacks.fast_gradient import fgsm
from advref.cli.parser import main
from advref.data_loaders import load_mnist_sample
from advref.drawing import plot_example
from tests.drawing.test_png import decode


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("show") / "m.npz"
    assert main(["train", "softmax", "--data", "sample", "--epochs", "2",
                 "--out", str(path)]) == 0
    return path


def test_show_draws_the_fgsm_example_of_the_test_image_it_names(model_file, tmp_path,
                                                                 capsys):
    out = tmp_path / "e.png"
    assert main(["show", str(model_file), "--index", "5", "--eps", "0.1", "--out", str(out),
                 "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    model = models.load(model_file)
    _, _, x_test, y_test = load_mnist_sample(dtype=model.dtype)
    x_adv = fgsm(model, x_test[5:6], 0.1, y=y_test[5:6], clip=(0.0, 1.0))
    p, q = model.predict_proba(np.concatenate([x_test[5:6], x_adv]))
    assert result["label"] == int(y_test[5])
    assert result["clean"] == {"predicted": int(p.argmax()), "confidence": float(p.max())}
    assert result["adversarial"] == {"predicted": int(q.argmax()),
                                     "confidence": float(q.max())}
    delta = x_adv[0].astype(np.float64) - x_test[5]
    assert result["linf"] == float(np.abs(delta).max())
    assert result["l2"] == float(np.sqrt((delta * delta).sum()))
    assert {k: result[k] for k in ("index", "out", "data", "method", "norm", "eps", "clip",
                                   "labels")} == {
        "index": 5, "out": str(out), "data": "sample", "method": "fgsm", "norm": "inf",
        "eps": 0.1, "clip": [0.0, 1.0], "labels": "true labels"}
    assert result["model"] == {"file": str(model_file), "sha256": models.params_digest(model),
                               "class": "SoftmaxRegression", "trained_on": "sample"}
    got, _ = decode(out.read_bytes())
    assert np.array_equal(got, plot_example(model, x_test[5], x_adv[0], y_test[5]))


def test_show_defaults_and_the_predicted_labels_unclipped(model_file, tmp_path, capsys):
    """No --index, --eps or --scale: test image 0, eps .25, 6 pixels a pixel. With
    --labels predicted and --no-clip, FGSM ascends the loss of the model's own class
    and leaves the box."""
    model = models.load(model_file)
    _, _, x_test, y_test = load_mnist_sample(dtype=model.dtype)
    out = tmp_path / "d.png"
    assert main(["show", str(model_file), "--out", str(out)]) == 0
    capsys.readouterr()
    x_adv = fgsm(model, x_test[:1], 0.25, y=y_test[:1], clip=(0.0, 1.0))
    assert np.array_equal(decode(out.read_bytes())[0],
                          plot_example(model, x_test[0], x_adv[0], y_test[0], scale=6))
    out = tmp_path / "p.png"
    i = int(np.nonzero(model.predict(x_test) != y_test)[0][0])     # a mistake: labels differ
    assert main(["show", str(model_file), "--index", str(i), "--labels", "predicted",
                 "--no-clip", "--scale", "2", "--out", str(out), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    own = model.predict(x_test[i:i + 1])
    x_adv = fgsm(model, x_test[i:i + 1], 0.25, y=own, clip=None)
    assert (result["labels"], result["clip"]) == ("predicted labels", None)
    assert np.array_equal(decode(out.read_bytes())[0],
                          plot_example(model, x_test[i], x_adv[0], y_test[i], scale=2))
    assert x_adv.min() < 0 or x_adv.max() > 1                 # it did leave the box


def test_show_draws_an_example_saved_by_attack(model_file, tmp_path, capsys):
    saved = tmp_path / "ex.npz"
    assert main(["attack", str(model_file), "--n", "4", "--method", "iterative",
                 "--save-examples", str(saved)]) == 0
    capsys.readouterr()
    out = tmp_path / "e.png"
    assert main(["show", str(model_file), "--examples", str(saved), "--index", "3",
                 "--out", str(out), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    with np.load(saved, allow_pickle=False) as f:
        x, x_adv, y = f["x"][3], f["x_adv"][3], int(f["y"][3])
    model = models.load(model_file)
    assert result["examples"] == str(saved) and result["label"] == y
    assert result["made_on"] == models.params_digest(model)
    assert np.array_equal(decode(out.read_bytes())[0], plot_example(model, x, x_adv, y))


def test_show_in_text_says_what_it_drew_and_where(model_file, tmp_path, capsys):
    out = tmp_path / "e.png"
    assert main(["show", str(model_file), "--out", str(out), "--labels", "predicted"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("clean: label ") and "adversarial: predicted" in lines[0]
    assert lines[1] == f"picture written to {out}"


def bad_examples(tmp_path):
    np.savez(tmp_path / "no_adv.npz", x=np.zeros((2, 784), np.float32))
    np.savez(tmp_path / "ints.npz", x=np.zeros((2, 784), np.int64),
             x_adv=np.zeros((2, 784), np.int64))
    np.savez(tmp_path / "small.npz", x=np.zeros((2, 9), np.float32),
             x_adv=np.zeros((2, 9), np.float32))
    (tmp_path / "text.npz").write_text("not a zip")
    np.savez(tmp_path / "flat.npz", x=np.zeros(784, np.float32),
             x_adv=np.zeros(784, np.float32))
    return tmp_path


@pytest.mark.parametrize("argv,words", [
    (["--index", "-1"], "--index must be >= 0"),
    (["--index", "1000"], "--index must be below the 1000 test images"),
    (["--scale", "0"], "--scale must be in [1, 64]"),
    (["--eps", "-1"], "--eps must be >= 0"),
    (["--examples", "{d}/no_adv.npz"], "must hold x and x_adv, as `attack` and `minimal` "
                                        "--save-examples write, got arrays ['x'] instead"),
    (["--examples", "{d}/flat.npz"], "must be float arrays of one shape (n, d)"),
    (["--examples", "{d}/ints.npz"], "must be float arrays"),
    (["--examples", "{d}/small.npz"], "inputs of 9 values, the model takes 784"),
    (["--examples", "{d}/text.npz"], "is not an examples file"),
    (["--examples", "{d}/small.npz", "--index", "2"], "--index must be below the 2 examples"),
    (["--examples", "{d}/small.npz", "--data", "sample"],
     "advref show: error: --data chooses the test images FGSM perturbs; --examples brings "
     "its own, so give one of them, not both.\n"),
])
def test_bad_arguments_are_refused_by_name_and_nothing_is_written(model_file, tmp_path,
                                                                    capsys, argv, words):
    d = bad_examples(tmp_path)
    out = tmp_path / "e.png"
    argv = [a.format(d=d) for a in argv]
    assert main(["show", str(model_file), "--out", str(out), *argv]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err
    assert not out.exists()


def test_an_unwritable_out_is_refused_before_the_model_is_read(tmp_path, capsys):
    out = tmp_path / "no" / "e.png"
    assert main(["show", str(tmp_path / "absent.npz"), "--out", str(out)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"advref show: error: --out {out}: its folder {out.parent} does not exist.")


@pytest.mark.parametrize("flag", ["--labels", "--data"])
def test_an_unknown_choice_is_a_usage_error(model_file, tmp_path, capsys, flag):
    with pytest.raises(SystemExit) as info:
        main(["show", str(model_file), "--out", str(tmp_path / "e.png"), flag, "bogus"])
    assert info.value.code == 2
    assert f"argument {flag}: invalid choice: 'bogus'" in capsys.readouterr().err


def test_the_scale_bounds_are_one_and_sixty_four(tmp_path):
    """Checked before any drawing: 1 and 64 pass, 0 and 65 are refused."""
    from argparse import Namespace

    from advref.cli.show import check_arguments
    for scale, ok in ((1, True), (64, True), (0, False), (65, False)):
        args = Namespace(index=0, scale=scale, eps=0.25, examples=None, data=None,
                         out=str(tmp_path / "e.png"))
        if ok:
            check_arguments(args)
        else:
            with pytest.raises(ValueError, match=r"--scale must be in \[1, 64\]"):
                check_arguments(args)
