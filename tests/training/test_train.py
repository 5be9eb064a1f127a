import io

import numpy as np
import pytest

from advref.analysis.metrics import error_rate
from advref.data_loaders import gaussian_classes
from advref.models import MaxoutMLP, SoftmaxRegression
from advref.training.max_norm import limit_column_norms
from advref.training.sgd import momentum_at, train


@pytest.fixture(scope="module")
def blobs():
    x, y = gaussian_classes(600, 20, 3, rng=0, separation=4.0)
    return x[:500], y[:500], x[500:], y[500:]


def test_same_seed_bit_identical(blobs):
    x, y, xv, yv = blobs

    def run():
        model = MaxoutMLP(20, 3, units=(8, 8), pieces=2, rng=1)
        train(model, x, y, x_valid=xv, y_valid=yv, epochs=3, batch_size=50, lr=0.1,
              momentum=0.5, final_momentum=0.7, momentum_saturate=3, rng=7, log=None)
        return model.params

    a, b = run(), run()
    assert all(np.array_equal(a[k], b[k]) for k in a)


def test_training_learns_and_reports_progress(blobs):
    x, y, xv, yv = blobs
    model = SoftmaxRegression(20, 3)
    log = io.StringIO()
    history = train(model, x, y, x_valid=xv, y_valid=yv, epochs=5, lr=0.1, log=log, rng=0)
    assert history.epochs[-1]["loss"] < history.epochs[0]["loss"]
    assert error_rate(model, xv, yv) < 0.05
    lines = log.getvalue().splitlines()
    assert len(lines) == 5 and "epoch 5/5" in lines[-1] and "valid" in lines[-1]
    assert "ETA" in lines[0]


def test_default_log_follows_sys_stderr_as_it_is_when_training_runs(blobs):
    """The default log is looked up at each write: a redirection made after
    advref was imported (redirect_stderr, a notebook, capsys) sees the lines."""
    import contextlib

    x, y, _, _ = blobs
    caught = io.StringIO()
    with contextlib.redirect_stderr(caught):
        train(SoftmaxRegression(20, 3), x, y, epochs=2, lr=0.1, rng=0)
    assert [line.split()[:2] for line in caught.getvalue().splitlines()] == [
        ["epoch", "1/2"], ["epoch", "2/2"]]


def test_schedules():
    assert momentum_at(1, 0.5, 0.7, 1, 250) == 0.5
    assert momentum_at(250, 0.5, 0.7, 1, 250) == pytest.approx(0.7)
    assert momentum_at(500, 0.5, 0.7, 1, 250) == pytest.approx(0.7)
    assert momentum_at(125.5, 0.5, 0.7, 1, 250) == pytest.approx(0.6)
    assert momentum_at(9, 0.5, None, 1, 250) == 0.5


def test_learning_rate_decays_per_update_to_floor(blobs):
    x, y, _, _ = blobs
    model = SoftmaxRegression(20, 3)
    h = train(model, x, y, epochs=2, batch_size=100, lr=0.1, lr_decay=1.5, lr_min=0.01,
              log=None)
    assert h.updates == 10
    assert h.epochs[0]["lr"] == pytest.approx(max(0.1 / 1.5 ** 4, 0.01))
    assert h.epochs[1]["lr"] == 0.01


def test_max_norm_caps_every_column(blobs):
    W = np.array([[3.0, 0.1], [4.0, 0.1]])
    limit_column_norms(W, 2.0)
    # (3, 4) has norm 5: scaled by 2/5 to (1.2, 1.6); (.1, .1) is inside the ball
    np.testing.assert_allclose(W, [[1.2, 0.1], [1.6, 0.1]], rtol=1e-15)
    x, y, _, _ = blobs
    model = MaxoutMLP(20, 3, units=(6,), pieces=2, irange=1.0, max_col_norm=0.5)
    train(model, x, y, epochs=1, lr=0.5, log=None)
    for name in model.weight_names:
        assert np.linalg.norm(model.params[name], axis=0).max() <= 0.5 + 1e-12


def test_early_stopping_restores_best(blobs):
    x, y, xv, yv = blobs
    model = SoftmaxRegression(20, 3)
    seen = []
    h = train(model, x[:60], y[:60], x_valid=xv, y_valid=yv, epochs=40, lr=2.0, patience=2,
              callback=lambda rec, m: seen.append(rec["valid_error"]), log=None)
    assert h.stopped_early and len(h.epochs) < 40
    assert h.best_valid_error == min(seen)
    assert error_rate(model, xv, yv) == h.best_valid_error


def test_weight_decay_update_is_exact(blobs):
    """One full-batch step, no momentum: W1 = W0 - lr (g + l1 sign(W0) + 2 l2 W0)."""
    x, y, _, _ = blobs
    model = SoftmaxRegression(20, 3, rng=2)
    W0, b0 = model.params["W"].copy(), model.params["b"].copy()
    _, g = model.loss_and_grads(x, y)
    train(model, x, y, epochs=1, batch_size=len(x), lr=0.1, l1={"W": 0.01}, l2=0.02, log=None)
    expected_W = W0 - 0.1 * (g["W"] + 0.01 * np.sign(W0) + 2 * 0.02 * W0)
    np.testing.assert_allclose(model.params["W"], expected_W, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(model.params["b"], b0 - 0.1 * g["b"], rtol=1e-12)   # no decay


def test_bad_arguments(blobs):
    x, y, _, _ = blobs
    model = SoftmaxRegression(20, 3)
    with pytest.raises(ValueError, match="patience needs validation data"):
        train(model, x, y, epochs=1, patience=3, log=None)
    with pytest.raises(ValueError, match="lr must be > 0"):
        train(model, x, y, epochs=1, lr=0, log=None)
    with pytest.raises(ValueError, match="names a weight matrix"):
        train(model, x, y, epochs=1, l1={"b": 0.1}, log=None)
    with pytest.raises(ValueError, match="epochs must be an integer in \\[1, "):
        train(model, x, y, epochs=0, log=None)
    with pytest.raises(ValueError, match="20 features"):
        train(model, x[:, :5], y, epochs=1, log=None)


def test_progress_lines_count_to_the_cap_and_to_early_stopping():
    """At the mean epoch time: 100 s for 10 epochs, 990 epochs to the cap, 3 more
    without improvement before early stopping must stop."""
    import io

    from advref.data_loaders.console import Prefixed
    from advref.training.history import log_epoch

    record = {"epoch": 10, "seconds": 100.0, "loss": 0.5, "train_error": 0.1,
              "valid_error": 0.2, "lr": 0.1, "momentum": 0.5}
    buf = io.StringIO()
    log_epoch(buf, record, 1000, 3)
    log_epoch(buf, record, 12, 3)                   # the cap comes first: no early-stop ETA
    log_epoch(Prefixed(buf, "[m] "), record, 12, None)
    lines = buf.getvalue().splitlines()
    assert lines[0].endswith("1m40s  ETA 165m00s to the cap, 30.0s if no better epoch comes "
                             "(early stopping)")
    assert lines[1].endswith("1m40s  ETA 20.0s to the cap")
    assert lines[2].startswith("[m] epoch 10/12  loss 0.5000  train 10.00%  valid 20.00%")
    out = io.StringIO()
    stream = Prefixed(out, "> ")
    stream.write("a\nb")
    assert out.getvalue() == "> a\n"
    stream.write("c\n")
    assert out.getvalue() == "> a\n> bc\n"
