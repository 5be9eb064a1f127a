"""The two second-stage rules (advref.training.second_stage), against hand-computed
objectives and schedules."""

import numpy as np
import pytest

from advref.data_loaders import gaussian_classes
from advref.models import SoftmaxRegression
from advref.training.history import History
from advref.training.objectives import clean_objective, objective_value
from advref.training.second_stage import (
    continue_settings,
    continue_training,
    first_match,
    train_two_stage,
)
from advref.training.sgd import train


def mean_cross_entropy(model, x, y):
    """Independent oracle: -log softmax(xW + b)[y], averaged, with a shifted exp."""
    z = x @ model.params["W"] + model.params["b"]
    z = z - z.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return float(-log_p[np.arange(len(y)), y].mean())


@pytest.fixture(scope="module")
def blobs():
    x, y = gaussian_classes(700, 12, 3, rng=0, separation=2.0)
    return x[:500], y[:500], x[500:], y[500:]


def test_first_match_is_the_first_value_at_or_below_the_target():
    assert first_match([3.0, 2.0, 1.5, 1.0, 0.5], 1.0) == 4        # "at" counts
    assert first_match([3.0, 0.99, 2.0], 1.0) == 2
    assert first_match([3.0, 2.0], 1.0) is None
    assert first_match([], 1.0) is None


def test_continue_settings_pick_up_the_schedule_at_the_best_epoch():
    h = History(epochs=[{"epoch": 1, "updates": 500, "momentum": 0.5},
                        {"epoch": 2, "updates": 1000, "momentum": 0.5008},
                        {"epoch": 3, "updates": 1500, "momentum": 0.5016}], best_epoch=2)
    s = continue_settings(h, {"lr": 0.1, "lr_decay": 1.000004, "lr_min": 1e-6, "epochs": 9,
                              "patience": 100, "momentum": 0.5, "final_momentum": 0.7,
                              "monitor": "clean"})
    assert s["lr"] == 0.1 / 1.000004 ** 1000          # the next step after update 1000
    assert s["momentum"] == 0.5008 and s["final_momentum"] is None
    assert "patience" not in s and "monitor" not in s and s["epochs"] == 9
    # the published run: best near epoch 243 of 500 updates an epoch gives lr .0615
    pub = continue_settings(History(epochs=[{"updates": 243 * 500, "momentum": 0.694}] * 243,
                                    best_epoch=243), {"lr": 0.1, "lr_decay": 1.000004})
    assert round(pub["lr"], 4) == 0.0615
    with pytest.raises(ValueError, match="best epoch"):
        continue_settings(History(), {})


def stage1(blobs):
    x, y, xv, yv = blobs
    model = SoftmaxRegression(12, 3, rng=1)
    h = train(model, x, y, x_valid=xv, y_valid=yv, epochs=6, lr=0.05, lr_decay=1.001,
              momentum=0.5, final_momentum=0.9, momentum_saturate=6, rng=2, log=None)
    return model, h


def test_continue_targets_the_training_objective_of_the_best_parameters(blobs):
    x, y, xv, yv = blobs
    model, h1 = stage1(blobs)
    target = mean_cross_entropy(model, x, y)       # best stage-1 parameters, no dropout
    h2 = continue_training(model, h1, x, y, xv, yv, rng=2, log=None, epochs=1, lr=0.05,
                           lr_decay=1.001, momentum=0.5, final_momentum=0.9)
    rec = h2.epochs[0]
    assert rec["target_objective"] == pytest.approx(target, rel=1e-12)
    # after one epoch on all 700 the match objective is the loss on the former
    # validation examples at the current parameters
    assert rec["match_objective"] == pytest.approx(mean_cross_entropy(model, xv, yv),
                                                   rel=1e-12)
    best = h1.epochs[h1.best_epoch - 1]
    assert rec["momentum"] == best["momentum"]
    updates_per_epoch = 7                            # 700 examples, batch 100
    assert rec["lr"] == 0.05 / 1.001 ** (best["updates"] + updates_per_epoch - 1)


@pytest.mark.parametrize("values, stop", [([1.5, 1.2, 1.0, 0.7, 0.1], 3),
                                          ([0.2, 5.0], 1), ([9.0] * 5, None)])
def test_continue_stops_at_the_first_matching_epoch(blobs, values, stop):
    x, y, xv, yv = blobs
    model, h1 = stage1(blobs)
    h2 = continue_training(model, h1, x, y, xv, yv, rng=2, log=None, epochs=5, lr=0.05,
                           match_value=lambda m, e: values[e - 1], target=1.0)
    assert len(h2.epochs) == (stop or 5)
    assert [e["match_objective"] for e in h2.epochs] == values[:stop or 5]


def old_train_two_stage(make_model, x, y, x_valid, y_valid, *, rng=0, **settings):
    """The retrain rule as it was written before the rules were named."""
    first = make_model()
    s1 = train(first, x, y, x_valid=x_valid, y_valid=y_valid, rng=rng, **settings)
    settings = {k: v for k, v in settings.items() if k not in ("patience", "epochs")}
    model = make_model()
    x_all, y_all = np.concatenate([x, x_valid]), np.concatenate([y, y_valid])
    s2 = train(model, x_all, y_all, epochs=max(s1.best_epoch, 1), rng=rng, **settings)
    return model, s1, s2


def test_retrain_rule_is_unchanged_bit_for_bit(blobs):
    x, y, xv, yv = blobs
    settings = dict(epochs=8, patience=3, lr=0.05, momentum=0.5, log=None)

    def make():
        return SoftmaxRegression(12, 3, rng=4)

    new, n1, n2 = train_two_stage(make, x, y, xv, yv, rule="retrain", rng=3, **settings)
    old, o1, o2 = old_train_two_stage(make, x, y, xv, yv, rng=3, **settings)
    assert all(np.array_equal(new.params[k], old.params[k]) for k in old.params)
    assert len(n2.epochs) == len(o2.epochs) == max(o1.best_epoch, 1)


def test_objective_value_of_the_clean_objective_is_the_mean_loss(blobs):
    x, y, _, _ = blobs
    model = SoftmaxRegression(12, 3, rng=1)
    got = objective_value(clean_objective, model, x, y, np.random.default_rng(0),
                          batch_size=128)                  # 500 = 3 x 128 + 116
    assert got == pytest.approx(mean_cross_entropy(model, x, y), rel=1e-12)


def test_unknown_rule_is_refused(blobs):
    x, y, xv, yv = blobs
    with pytest.raises(ValueError, match="second-stage rule"):
        train_two_stage(lambda: SoftmaxRegression(12, 3), x, y, xv, yv, rule="restart",
                        epochs=1)


def test_continue_stage_resumes_bit_identically_after_a_crash(blobs, tmp_path):
    x, y, xv, yv = blobs
    settings = dict(rng=2, log=None, epochs=4, lr=0.05, momentum=0.5, target=-1.0)
    model, h1 = stage1(blobs)
    continue_training(model, h1, x, y, xv, yv, **settings)
    calls = {"n": 0}

    def crash_after_ten(m, xb, yb, rng):
        calls["n"] += 1
        if calls["n"] > 10:
            raise KeyboardInterrupt
        return clean_objective(m, xb, yb, rng)

    ck = tmp_path / "s2.ckpt.npz"
    crashed, h1b = stage1(blobs)
    with pytest.raises(KeyboardInterrupt):
        continue_training(crashed, h1b, x, y, xv, yv, objective=crash_after_ten,
                          checkpoint=ck, checkpoint_key="s2", checkpoint_seconds=0.0,
                          **settings)
    resumed, h1c = stage1(blobs)
    h2 = continue_training(resumed, h1c, x, y, xv, yv, checkpoint=ck, checkpoint_key="s2",
                           resume=True, **settings)
    assert len(h2.epochs) == 4
    assert all(np.array_equal(resumed.params[k], model.params[k]) for k in model.params)
