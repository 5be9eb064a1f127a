"""The attack commands end to end, on models trained on the bundled sample."""

import json

import numpy as np
import pytest

from advref.cli.parser import main


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    paths = {}
    for name in ("softmax", "rbf"):
        paths[name] = folder / f"{name}.npz"
        assert main(["train", name, "--data", "sample", "--epochs", "3", "--out",
                     str(paths[name])]) == 0
    return paths


def run_json(capsys, argv):
    capsys.readouterr()
    assert main(argv + ["--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_attack(trained, capsys):
    out = run_json(capsys, ["attack", str(trained["softmax"]), "--eps", "0.25", "--n", "300"])
    assert out["n"] == 300 and out["eps"] == 0.25 and out["clip"] == [0.0, 1.0]
    assert out["data"] == "sample" and len(out["model"]["sha256"]) == 64
    assert out["adversarial"]["error"] > out["clean"]["error"] + 0.3
    targeted = run_json(capsys, ["attack", str(trained["softmax"]), "--targeted", "3",
                                 "--n", "100", "--norm", "2", "--eps", "3"])
    assert 0 <= targeted["target_rate"] <= 1 and targeted["norm"] == 2


def test_minimal(trained, capsys):
    out = run_json(capsys, ["minimal", str(trained["softmax"]), "--n", "2", "--target", "1"])
    assert out["settings"]["method"] == "L-BFGS-B" and len(out["examples"]) == 2
    for e in out["examples"]:
        assert e["success"] is False or (e["reached"] == 1 and e["l2"] >= 0)


def test_rubbish(trained, capsys):
    out = run_json(capsys, ["rubbish", str(trained["rbf"]), "--samples", "500",
                            "--source", "standard-normal", "--eps", "0.25", "--target", "5"])
    assert out["n"] == 500 and len(out["class_histogram"]) == 10
    assert 0 <= out["target_rate"] <= 1


def test_transfer(trained, capsys):
    out = run_json(capsys, ["transfer", str(trained["softmax"]), str(trained["rbf"]),
                            "--n", "200"])
    target = out["targets"][str(trained["rbf"])]
    assert 0 <= target["error"] <= 1 and len(out["models"]) == 2


def test_attack_bad_input(trained, tmp_path, capsys):
    assert main(["attack", str(trained["softmax"]), "--eps", "-0.1"]) == 2
    assert "eps must be >= 0" in capsys.readouterr().err
    not_model = tmp_path / "x.npz"
    np.savez(not_model, a=np.zeros(2))
    assert main(["attack", str(not_model)]) == 2
    assert "not an advref model file" in capsys.readouterr().err
    assert main(["attack", str(trained["softmax"]), "--data", "binary37-sample"]) == 2
    assert "10 classes" in capsys.readouterr().err
