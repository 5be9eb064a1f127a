import json
import subprocess
import sys

import numpy as np
import pytest

from advref import models
from advref.cli.parser import main


def test_gradcheck_all_models_pass(capsys):
    assert main(["gradcheck"]) == 0
    out = capsys.readouterr().out
    assert "0 failed" in out
    for name in ("logistic", "softmax", "maxout", "relu", "tanh", "rbf"):
        assert name in out


def test_train_on_sample_saves_a_loadable_model(tmp_path, capsys):
    out = tmp_path / "softmax.npz"
    assert main(["train", "softmax", "--data", "sample", "--epochs", "2", "--out", str(out),
                 "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["epochs_run"] == 2 and 0 <= result["test_error"] < 0.5
    model, extra = models.load(out, with_extra=True)
    assert isinstance(model, models.SoftmaxRegression) and model.dtype == np.float32
    assert extra["test_error"] == result["test_error"]


def test_train_rejects_mismatched_data(tmp_path, capsys):
    code = main(["train", "logistic", "--data", "sample", "--out", str(tmp_path / "x.npz")])
    assert code == 2
    assert "needs binary data" in capsys.readouterr().err


def test_python_dash_m_and_help():
    done = subprocess.run([sys.executable, "-m", "advref", "--help"], capture_output=True,
                          text=True, check=True)
    assert "gradcheck" in done.stdout and "train" in done.stdout and "data" in done.stdout


def test_data_info_reports_missing(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("ADVREF_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert main(["data", "info", "--data-dir", str(tmp_path / "none")]) == 1
    out = capsys.readouterr().out
    assert "not found" in out and "bundled sample" in out


def test_train_with_defences(tmp_path, capsys):
    out = tmp_path / "adv.npz"
    assert main(["train", "softmax", "--data", "sample", "--epochs", "2", "--adversarial",
                 "--monitor", "adversarial", "--stage2", "--out", str(out), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["objective"].startswith("adversarial eps 0.25")
    assert result["stage2_epochs"] == result["best_epoch"] and result["monitor"] == "adversarial"
    assert 0 <= result["test_fgsm_error"] <= 1
    assert main(["train", "relu", "--data", "sample", "--epochs", "1", "--labels", "50", "--vat",
                 "--l1", "0.001", "--l1-layers", "0", "--out", str(out), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["objective"].startswith("VAT eps 2.0 on 1550 unlabelled")
    assert result["settings"]["l1"] == {"W0": 0.001}


def test_train_rejects_conflicting_defences(tmp_path, capsys):
    argv = ["train", "softmax", "--data", "sample", "--out", str(tmp_path / "x.npz")]
    assert main(argv + ["--adversarial", "--noise", "sign"]) == 2
    assert "choose one training objective" in capsys.readouterr().err
    assert main(argv + ["--l1", "0.1", "--l1-layers", "3"]) == 2
    assert "--l1-layers must index" in capsys.readouterr().err


def test_bench_reports_fractions_of_the_matmul_rate():
    from advref.tools.speed import FLOPS, run

    # per example, by hand: 784x1200, 240x1200 and 240x10 products of 2 flops a
    # multiply-add; backward has two products per layer except the first (no input
    # gradient); FGSM needs the input gradient but no weight gradients
    macs = 784 * 1200 + 240 * 1200 + 240 * 10          # 1,231,200
    assert FLOPS["forward"] == 2 * 1_231_200
    assert FLOPS["train_step"] == 2 * (1_231_200 + 2 * 1_231_200 - 784 * 1200)
    assert FLOPS["fgsm"] == 2 * 2 * macs
    result = run(batches=(20,), dtypes=("float64",), rounds=3, min_time=0.01, size=256)
    assert {r["task"] for r in result["rows"]} == set(FLOPS)
    for r in result["rows"]:
        assert r["examples_per_s"] > 0 and 0 < r["fraction"]
        # the task's rate is examples/s times its flops; the fraction divides it by
        # the matmul rate. Each is printed rounded (examples/s to 1, the rest to
        # .001), so they agree within the rounding's exact interval
        per_example = FLOPS[r["task"]] / 1e9
        assert abs(r["GFLOPs"] - r["examples_per_s"] * per_example) <= \
            0.5 * per_example + 5e-4 + 1e-12
        g, m, h = r["GFLOPs"], r["matmul_GFLOPs"], 5e-4 + 1e-12
        assert (g - h) / (m + h) - h <= r["fraction"] <= (g + h) / (m - h) + h
    assert 0 < result["import_advref_seconds"] < 5 and result["memory_copy_GBs"] > 0


def test_reproduce_help_lists_every_experiment_only_and_skip_take(capsys):
    """The names --only accepts, from the experiment functions, are those the help
    lists, and each needs-table entry (the models an experiment trains) is one."""
    import re

    from advref.reproduce.jobs import NEEDS, select

    with pytest.raises(SystemExit):
        main(["reproduce", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    listed = re.search(r"the experiments: (.*?) \(big_maxout", text).group(1).split(", ")
    assert set(listed) == set(NEEDS) and len(listed) == len(NEEDS)
    assert select(only=listed) == listed
