"""`advref train`: checkpoints, --resume, Ctrl-C, and the CLI bugs of issue 15."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from advref import models
from advref.cli.parser import main

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Long enough to be interrupted after its first checkpoint (written after epoch 1),
# short enough to finish well inside the deadline on a busy machine: 40 epochs took
# 10 s beside two training jobs on 2 cores, where 400 took 97 s against a 300 s bound.
LONG = ["train", "softmax", "--data", "sample", "--epochs", "40", "--patience", "1000"]
DEADLINE = 600


def _as_in_a_terminal():
    # A shell running a job in the background (as a CI script may run the tests)
    # ignores SIGINT for it, and Python then never turns Ctrl-C into
    # KeyboardInterrupt; a user at a terminal has the default disposition.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def advref(*args):
    return subprocess.Popen([sys.executable, "-m", "advref", *args], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_as_in_a_terminal)


def signalled_run(out, signum):
    """A long training run sent `signum` once its first checkpoint exists."""
    proc = advref(*LONG, "--out", str(out))
    ckpt = out.parent / f"{out.name}.ckpt.npz"
    deadline = time.monotonic() + DEADLINE
    while not ckpt.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    time.sleep(0.2)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=DEADLINE)
    return proc, ckpt, err


def test_ctrl_c_says_where_the_checkpoint_is_and_resume_is_bit_identical(tmp_path):
    out = tmp_path / "m.npz"
    proc, ckpt, err = signalled_run(out, signal.SIGINT)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert str(ckpt) in last and "--resume" in last and not out.exists()
    # without --resume the checkpoint is not overwritten
    again = advref(*LONG, "--out", str(out))
    _, err = again.communicate(timeout=DEADLINE)
    assert again.returncode == 2 and "--resume" in err
    resumed = advref(*LONG, "--out", str(out), "--resume")
    _, err = resumed.communicate(timeout=DEADLINE)
    assert resumed.returncode == 0, err
    assert "resuming from" in err and not ckpt.exists()
    straight = advref(*LONG, "--out", str(tmp_path / "ref.npz"))
    assert straight.wait(timeout=DEADLINE) == 0
    a, b = models.load(out), models.load(tmp_path / "ref.npz")
    assert all(np.array_equal(a.params[k], b.params[k]) for k in a.params)


def test_sigterm_leaves_no_temporary_file_and_says_how_to_resume(tmp_path):
    proc, ckpt, err = signalled_run(tmp_path / "m.npz", signal.SIGTERM)
    assert proc.returncode == 143, err
    assert "Traceback" not in err and "terminated" in err and "--resume" in err
    assert [p.name for p in tmp_path.iterdir()] == [ckpt.name]       # no .part file left


def test_every_option_has_help_text():
    import argparse

    from advref.cli.parser import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    missing = [f"{name} {'/'.join(a.option_strings) or a.dest}"
               for name, p in sub.choices.items() for a in p._actions
               if not a.help and not isinstance(a, argparse._HelpAction)]
    assert missing == []


def test_reproduce_resume_flag_is_gone_because_every_run_resumes(capsys):
    with pytest.raises(SystemExit) as exit:
        main(["reproduce", "--resume"])
    assert exit.value.code == 2
    assert "unrecognized arguments: --resume" in capsys.readouterr().err


@pytest.mark.parametrize("out, message", [("", "empty string"), ("{tmp}", "a directory"),
                                          ("{tmp}/missing/m.npz", "does not exist")])
def test_unwritable_out_fails_before_training(tmp_path, capsys, out, message):
    code = main(["train", "softmax", "--data", "sample", "--epochs", "1", "--out",
                 out.format(tmp=tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and "--out" in err and message in err
    assert "epoch 1" not in err


def test_stage2_reports_stage1_validation_error_and_records_its_rule(tmp_path, capsys):
    out = tmp_path / "m.npz"
    assert main(["train", "softmax", "--data", "sample", "--epochs", "6", "--patience", "2",
                 "--stage2", "--out", str(out), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    _, extra = models.load(out, with_extra=True)
    assert result["second_stage"] == extra["second_stage"] == "retrain"   # softmax's recipe
    # the reported validation error is stage 1's best, not one measured on data that
    # stage 2 trained on
    ckpt_free = sorted(p.name for p in tmp_path.iterdir())
    assert ckpt_free == ["m.npz"]
    assert main(["train", "softmax", "--data", "sample", "--epochs", "6", "--patience", "2",
                 "--out", str(tmp_path / "s1.npz"), "--json"]) == 0
    stage1 = json.loads(capsys.readouterr().out)
    assert result["valid_error"] == stage1["valid_error"]


def test_l1_layers_do_not_select_the_l2_layers(tmp_path, capsys):
    from argparse import Namespace

    from advref.cli.train import decay_settings

    args = Namespace(l1=0.01, l2=0.001, l1_layers=[0], l2_layers=None)
    got = decay_settings(args, ("W0", "W1", "W2"))
    assert got == {"l1": {"W0": 0.01}, "l2": {"W0": 0.001, "W1": 0.001, "W2": 0.001}}


def test_alpha_without_a_defence_is_refused(tmp_path, capsys):
    assert main(["train", "softmax", "--data", "sample", "--alpha", "0.3", "--out",
                 str(tmp_path / "m.npz")]) == 2
    assert "--alpha" in capsys.readouterr().err


def test_maxout_learns_on_the_sample_and_says_which_init_it_used(tmp_path, capsys):
    out = tmp_path / "m.npz"
    assert main(["train", "maxout", "--data", "sample", "--epochs", "4", "--out", str(out),
                 "--json"]) == 0
    captured = capsys.readouterr()
    assert "uniform(-0.05, 0.05)" in captured.err
    result = json.loads(captured.out)
    assert result["recipe"]["model"]["irange"] == 0.05
    assert result["test_error"] < 0.5                  # chance is 0.9
    assert main(["train", "softmax", "--data", "sample", "--irange", "0.1", "--out",
                 str(tmp_path / "s.npz")]) == 2
    assert "--irange" in capsys.readouterr().err


def test_no_clip_trains_monitors_and_reports_fgsm_outside_the_box(tmp_path, capsys):
    """--no-clip is the paper's setting (paper-notes section 1). Oracles: the library's
    `train` with adversarial(clip=None) and adversarial_error(clip=None) on the same split
    and recipe settings gives the CLI's parameters bit for bit; the reported FGSM error is
    recomputed from the saved model with clip=None; and the clipped run differs."""
    from advref.analysis.metrics import error_rate
    from advref.attacks.fast_gradient import fgsm
    from advref.data_loaders import train_valid_split
    from advref.datasets import load_data
    from advref.fitting.recipes import get_recipe
    from advref.training.monitors import adversarial_error
    from advref.training.objectives import adversarial
    from advref.training.sgd import train

    argv = ["train", "softmax", "--data", "sample", "--epochs", "3", "--adversarial",
            "--monitor", "adversarial", "--json"]
    runs = {}
    for name, extra in (("unclipped", ["--no-clip"]), ("clipped", [])):
        out = tmp_path / f"{name}.npz"
        assert main(argv + extra + ["--out", str(out)]) == 0
        runs[name] = (json.loads(capsys.readouterr().out), models.load(out))
    result, model = runs["unclipped"]
    assert result["objective"] == "adversarial eps 0.25 alpha 0.5, unclipped"
    assert result["clip"] is None and runs["clipped"][0]["clip"] == [0.0, 1.0]
    assert runs["clipped"][0]["objective"] == "adversarial eps 0.25 alpha 0.5"

    x_all, y_all, x_test, y_test, n_classes = load_data("sample", np.dtype("float32"))
    assert result["test_fgsm_error"] == error_rate(
        model, fgsm(model, x_test, 0.25, y=y_test, clip=None), y_test)
    assert result["test_fgsm_error"] != error_rate(model, fgsm(model, x_test, 0.25, y=y_test),
                                                   y_test)
    recipe = get_recipe("softmax")
    x, y, xv, yv = train_valid_split(x_all, y_all, min(recipe.n_valid, len(x_all) // 5))
    oracle = recipe.build(x.shape[1], n_classes, rng=0,
                         dtype=np.dtype("float32"), x=x, y=y)
    history = train(oracle, x, y, x_valid=xv, y_valid=yv, rng=0, log=None,
                    **dict(recipe.train, epochs=3, objective=adversarial(0.25, 0.5, clip=None),
                           monitor=adversarial_error(0.25, clip=None)))
    # the validation error early stopping saw is the unclipped adversarial monitor's
    curve = [e["valid_error"] for e in history.epochs]
    assert result["valid_error_curve"] == curve
    assert runs["clipped"][0]["valid_error_curve"] != curve
    for k, v in oracle.params.items():
        assert np.array_equal(model.params[k], v), k
    assert any(not np.array_equal(runs["clipped"][1].params[k], v)
               for k, v in model.params.items())


def killed_after_first_checkpoint(out, *flags):
    """A long run with `flags`, killed once its checkpoint exists; returns the checkpoint."""
    proc = advref(*LONG, *flags, "--out", str(out))
    ckpt = out.parent / f"{out.name}.ckpt.npz"
    deadline = time.monotonic() + DEADLINE
    while not ckpt.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    proc.kill()
    proc.wait()
    assert ckpt.exists()
    return ckpt


def test_no_clip_does_not_resume_a_clipped_checkpoint(tmp_path, capsys):
    out = tmp_path / "m.npz"
    # Only the monitor differs: the objective's name cannot tell the runs apart.
    killed_after_first_checkpoint(out, "--monitor", "adversarial")
    assert main([*LONG, "--monitor", "adversarial", "--no-clip", "--resume", "--out",
                 str(out)]) == 2
    err = capsys.readouterr().err
    assert "checkpoint" in err and "resuming from" not in err


def test_adv_grad_train_is_the_library_objective_and_is_recorded(tmp_path, capsys):
    """--adv-grad train trains exactly as adversarial(grad="train") on the same split;
    it is recorded in the model file, its checkpoint key differs from eval's, and
    without --adversarial it is refused before any data are loaded."""
    from advref.data_loaders import train_valid_split
    from advref.datasets import load_data
    from advref.fitting.recipes import get_recipe
    from advref.training.objectives import adversarial
    from advref.training.sgd import train

    argv = ["train", "maxout", "--data", "sample", "--epochs", "2", "--adversarial",
            "--no-clip", "--json"]
    out = tmp_path / "train.npz"
    assert main(argv + ["--adv-grad", "train", "--out", str(out)]) == 0
    result = json.loads(capsys.readouterr().out)
    model, extra = models.load(out, with_extra=True)
    assert result["adv_grad"] == extra["adv_grad"] == "train"
    assert result["objective"] == ("adversarial eps 0.25 alpha 0.5, unclipped, x_adv from the "
                                   "training loss (dropout)")
    recipe = get_recipe("maxout").with_model(irange=0.05)   # --data sample's init, as said
    x_all, y_all, _, _, n_classes = load_data("sample", np.dtype("float32"))
    x, y, xv, yv = train_valid_split(x_all, y_all, min(recipe.n_valid, len(x_all) // 5))
    oracle = recipe.build(x.shape[1], n_classes, rng=0,
                         dtype=np.dtype("float32"), x=x, y=y)
    train(oracle, x, y, x_valid=xv, y_valid=yv, rng=0, log=None,
          **dict(recipe.train, epochs=2,
                 objective=adversarial(0.25, 0.5, clip=None, grad="train")))
    for k, v in oracle.params.items():
        assert np.array_equal(model.params[k], v), k
    eval_out = tmp_path / "eval.npz"
    assert main(argv + ["--out", str(eval_out)]) == 0
    assert json.loads(capsys.readouterr().out)["adv_grad"] == "eval"
    assert any(not np.array_equal(models.load(eval_out).params[k], v)
               for k, v in model.params.items())
    assert main(["train", "softmax", "--data", "sample", "--adv-grad", "train", "--out",
                 str(tmp_path / "x.npz")]) == 2
    err = capsys.readouterr().err
    assert "--adv-grad chooses how --adversarial makes x_adv, got --adv-grad train without " \
           "--adversarial instead." in err


def test_adv_grad_train_does_not_resume_an_eval_checkpoint(tmp_path, capsys):
    out = tmp_path / "m.npz"
    ckpt = killed_after_first_checkpoint(out, "--adversarial")
    assert main([*LONG, "--adversarial", "--adv-grad", "train", "--resume", "--out",
                 str(out)]) == 2
    assert "another" in capsys.readouterr().err
    assert ckpt.exists()


def test_a_sample_run_without_epochs_stops_at_the_sample_profiles_cap(tmp_path, capsys):
    """The recipe's 1,000-epoch cap is for full MNIST: on the bundled sample `train`
    caps maxout at the sample profile's 12 epochs (the profile's table, not the recipe),
    says so, and --epochs still chooses."""
    from advref.reproduce.profiles import PROFILES
    cap = PROFILES["sample"]["epochs"]["maxout"]
    out = tmp_path / "m.npz"
    assert main(["train", "maxout", "--data", "sample", "--out", str(out), "--json"]) == 0
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    assert result["epochs_run"] == cap == 12
    assert f"at most {cap} epochs" in captured.err and "--epochs" in captured.err
    assert main(["train", "softmax", "--data", "sample", "--epochs", "3",
                 "--out", str(tmp_path / "n.npz"), "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["epochs_run"] == 3
    assert "at most" not in captured.err
    assert main(["train", "logistic", "--data", "binary37-sample", "--out",
                 str(tmp_path / "l.npz"), "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["settings"]["epochs"] == 20
    assert "at most 20 epochs" in captured.err
