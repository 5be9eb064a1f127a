"""Resume inside a model: a run killed at any moment and resumed ends with the
parameters of an uninterrupted run, bit for bit (advref.training.checkpoint)."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from advref.data_loaders import load_mnist_sample, train_valid_split
from advref.models import MaxoutMLP
from advref.training.checkpoint import CheckpointError
from advref.training.objectives import adversarial
from advref.training.sgd import train

SETTINGS = dict(epochs=4, batch_size=50, lr=0.1, lr_decay=1.0001, momentum=0.5,
                final_momentum=0.7, momentum_saturate=3, patience=2)


def sample_split():
    d = load_mnist_sample(dtype=np.float32)
    return train_valid_split(d.x_train, d.y_train, 400)


def small_maxout():
    return MaxoutMLP(784, 10, units=(24, 24), pieces=2, include_probs=(0.8, 0.5, 0.5),
                     scales=(1.0, 2.0, 2.0), max_col_norm=1.9365, irange=0.05, rng=3,
                     dtype=np.float32)


def uninterrupted(**extra):
    x, y, xv, yv = sample_split()
    model = small_maxout()
    history = train(model, x, y, x_valid=xv, y_valid=yv, rng=5, log=None, **SETTINGS, **extra)
    return model, history


class Crash(Exception):
    pass


def crashing(objective, after):
    calls = {"n": 0}

    def wrapped(model, x, y, rng):
        calls["n"] += 1
        if calls["n"] > after:
            raise Crash
        return objective(model, x, y, rng)

    return wrapped


@pytest.mark.parametrize("crash_after", [1, 16, 23, 40, 55])
@pytest.mark.parametrize("every", [0.0, 1e9])
def test_crash_then_resume_is_bit_identical(tmp_path, crash_after, every):
    """every=0: a checkpoint after every batch (mid-epoch resumes); 1e9: only at
    epoch ends (the crash loses the partial epoch, which is redone)."""
    from advref.training.objectives import clean_objective

    reference, ref_history = uninterrupted()
    x, y, xv, yv = sample_split()
    ck = tmp_path / "run.ckpt.npz"
    model = small_maxout()
    with pytest.raises(Crash):
        train(model, x, y, x_valid=xv, y_valid=yv, rng=5, log=None, checkpoint=ck,
              checkpoint_key="k", checkpoint_seconds=every,
              objective=crashing(clean_objective, crash_after), **SETTINGS)
    model = small_maxout()
    history = train(model, x, y, x_valid=xv, y_valid=yv, rng=5, log=None, checkpoint=ck,
                    checkpoint_key="k", resume=True, checkpoint_seconds=every, **SETTINGS)
    for k, v in reference.params.items():
        assert np.array_equal(model.params[k], v), k
    assert [e["valid_error"] for e in history.epochs] == \
        [e["valid_error"] for e in ref_history.epochs]
    assert history.best_epoch == ref_history.best_epoch
    assert history.updates == ref_history.updates


@pytest.mark.parametrize("grad", ["eval", "train"])
def test_resume_of_adversarial_training_is_bit_identical(tmp_path, grad):
    objective = adversarial(0.1, 0.5, grad=grad)
    reference, _ = uninterrupted(objective=objective)
    x, y, xv, yv = sample_split()
    ck = tmp_path / "adv.ckpt.npz"
    with pytest.raises(Crash):
        train(small_maxout(), x, y, x_valid=xv, y_valid=yv, rng=5, log=None, checkpoint=ck,
              checkpoint_key="k", checkpoint_seconds=0.0,
              objective=crashing(objective, 37), **SETTINGS)
    model = small_maxout()
    train(model, x, y, x_valid=xv, y_valid=yv, rng=5, log=None, checkpoint=ck,
          checkpoint_key="k", resume=True, objective=objective, **SETTINGS)
    assert all(np.array_equal(model.params[k], v) for k, v in reference.params.items())


def test_checkpoint_of_another_run_is_refused(tmp_path):
    x, y, xv, yv = sample_split()
    ck = tmp_path / "run.ckpt.npz"
    train(small_maxout(), x, y, x_valid=xv, y_valid=yv, rng=5, log=None, checkpoint=ck,
          checkpoint_key={"seed": 5}, epochs=1)
    with pytest.raises(CheckpointError, match="another run"):
        train(small_maxout(), x, y, x_valid=xv, y_valid=yv, rng=5, log=None, checkpoint=ck,
              checkpoint_key={"seed": 6}, resume=True, epochs=1)
    with pytest.raises(ValueError, match="already exists"):
        train(small_maxout(), x, y, rng=5, log=None, checkpoint=ck, checkpoint_key="k",
              epochs=1)


def test_corrupt_checkpoint_is_refused(tmp_path):
    x, y, xv, yv = sample_split()
    ck = tmp_path / "run.ckpt.npz"
    train(small_maxout(), x, y, rng=5, log=None, checkpoint=ck, checkpoint_key="k", epochs=1)
    ck.write_bytes(ck.read_bytes()[:5000])
    with pytest.raises(CheckpointError, match="corrupt"):
        train(small_maxout(), x, y, rng=5, log=None, checkpoint=ck, checkpoint_key="k",
              resume=True, epochs=1)


KILLED_RUN = textwrap.dedent("""
    import sys
    import numpy as np
    sys.path[:0] = [{root!r}, {tests!r}]
    from test_resume import SETTINGS, sample_split, small_maxout
    from advref.training.sgd import train
    x, y, xv, yv = sample_split()
    model = small_maxout()
    train(model, x, y, x_valid=xv, y_valid=yv, rng=5, log=None, checkpoint=sys.argv[1],
          checkpoint_key="k", resume=True, checkpoint_seconds=0.0, **SETTINGS)
    np.savez(sys.argv[2], **model.params)
""")


def _stamp(path):
    """The identity of the checkpoint file now: atomic saves replace it, so a new
    save shows as a new (inode, mtime) pair."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_mtime_ns


def _kill_after_next_save(proc, ck, extra_delay, timeout=120.0):
    """SIGKILL proc a random moment after it has saved at least one checkpoint of
    its own; False if it finished first. Driven by progress, not by wall-clock
    guesses, so a fast or a slow machine kills at the same kind of moment."""
    before, deadline = _stamp(ck), time.monotonic() + timeout
    while _stamp(ck) == before:
        if proc.poll() is not None:
            return False
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("the run saved no checkpoint in time")
        time.sleep(0.002)
    time.sleep(extra_delay)
    if proc.poll() is not None:
        return False
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return True


def test_sigkill_at_random_moments_then_resume_is_bit_identical(tmp_path):
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    script = tmp_path / "run.py"
    here = os.path.dirname(os.path.abspath(__file__))      # this file's folder
    script.write_text(KILLED_RUN.format(root=root, tests=here))
    ck, out = tmp_path / "run.ckpt.npz", tmp_path / "final.npz"
    delays = np.random.default_rng(0).uniform(0.0, 0.03, size=5)
    kills = 0
    for delay in delays:
        proc = subprocess.Popen([sys.executable, str(script), str(ck), str(out)])
        if not _kill_after_next_save(proc, ck, delay):
            assert proc.wait() == 0
            break
        kills += 1
    else:
        subprocess.run([sys.executable, str(script), str(ck), str(out)], check=True)
    assert kills >= 3, f"only {kills} kills landed after a checkpoint"
    assert not list(tmp_path.glob(".run.ckpt.npz.*.part"))   # the last save removed them
    reference, _ = uninterrupted()
    with np.load(out) as final:
        for k, v in reference.params.items():
            assert np.array_equal(final[k], v), k
