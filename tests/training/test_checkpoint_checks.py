"""Forged and hostile checkpoints (issue 30): each is refused before use with
"corrupt checkpoint: FIELD ..." naming the field, under a memory cap, and a key
mismatch names the fields that differ."""

import io
import json
import os
import resource
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from advref.models import SoftmaxRegression
from advref.training.checkpoint import CheckpointError, load_checkpoint
from advref.training.sgd import train

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = dict(epochs=3, batch_size=10, lr=0.1, log=None)


def blobs(n=60, seed=0):
    gen = np.random.default_rng(seed)
    return gen.random((n, 5)), gen.integers(0, 3, n)


@pytest.fixture
def saved(tmp_path):
    """A real checkpoint of a finished 3-epoch run, and its header and arrays."""
    x, y = blobs()
    path = tmp_path / "run.ckpt.npz"
    train(SoftmaxRegression(5, 3, rng=0), x, y, checkpoint=path, checkpoint_key="k",
          **SETTINGS)
    with np.load(path) as npz:
        arrays = {k: npz[k] for k in npz.files}
    return path, json.loads(str(arrays.pop("__checkpoint__")[()])), arrays


def forge(path, header, arrays):
    buf = io.BytesIO()
    np.savez(buf, __checkpoint__=np.array(json.dumps(header)), **arrays)
    path.write_bytes(buf.getvalue())


def params_of(arrays):
    return {k[6:]: v for k, v in arrays.items() if k.startswith("param/")}


@pytest.mark.parametrize("field, value, expected", [
    ("epoch", "abc", "epoch must be an integer >= 0, got 'abc' instead"),
    ("epoch", -5, "epoch must be an integer >= 0, got -5 instead"),
    ("batch", 1.5, "batch must be an integer >= 0"),
    ("finished", "yes", "finished must be true or false"),
    ("seconds", -1.0, "seconds must be a finite number >= 0.0"),
    ("loss_sum", None, "loss_sum must be a finite number"),
    ("history", [], "history must be an object"),
    ("history", {"epochs": []}, "history must be a History record"),
    ("rng_state", {"bit_generator": "Nope"}, "rng_state must be a NumPy bit generator's "
     "state"),
    ("rng_state", {"bit_generator": "PCG64", "state": 5}, "rng_state must be a NumPy bit "
     "generator's state"),
])
def test_forged_header_fields_are_named(saved, field, value, expected):
    path, header, arrays = saved
    forge(path, dict(header, **{field: value}), arrays)
    with pytest.raises(CheckpointError, match=f"corrupt checkpoint: {expected}") as refused:
        load_checkpoint(path, "k", params_of(arrays))
    assert str(refused.value).startswith(f"{path}: corrupt checkpoint: {field} must be ")


def test_edge_values_that_are_valid_are_accepted(saved):
    path, header, arrays = saved
    forge(path, dict(header, seconds=0.0, loss_sum=-1.5, waited=0), arrays)
    _, state = load_checkpoint(path, "k", params_of(arrays))
    assert state.seconds == 0.0 and state.loss_sum == -1.5
    forge(path, dict(header, history=dict(header["history"], epochs=[1])), arrays)
    with pytest.raises(CheckpointError) as refused:
        load_checkpoint(path, "k", params_of(arrays))
    assert str(refused.value) == (f"{path}: corrupt checkpoint: history must be a list of "
                                  "epoch records, got [1] instead")


def resume(path):
    x, y = blobs()
    return train(SoftmaxRegression(5, 3, rng=0), x, y, checkpoint=path, checkpoint_key="k",
                 resume=True, **dict(SETTINGS, epochs=5))


@pytest.mark.parametrize("change, expected", [
    (lambda h, a: a.update(monitor_idx=np.array([0, 99])), "monitor_idx must be indices in "
     r"\[0, 60\)"),
    (lambda h, a: (h.update(has_order=True, batch=10**9, finished=False),
                   a.update(order=np.arange(60))), "batch must be at most 60"),
    (lambda h, a: (h.update(has_order=True, batch=10, finished=False),
                   a.update(order=np.zeros(60, np.int64))), "order must be a permutation of "
     "the 60 examples"),
])
def test_positions_are_checked_against_the_training_set(saved, change, expected):
    path, header, arrays = saved
    change(header, arrays)
    forge(path, header, arrays)
    with pytest.raises(CheckpointError, match=f"corrupt checkpoint: {expected}"):
        resume(path)


def test_a_key_mismatch_names_the_fields_that_differ(saved):
    path, header, arrays = saved
    mine = {"command": "train", "seed": 0, "data": "sample", "epochs": 3}
    forge(path, dict(header, key=dict(mine, seed=1, epochs=4)), arrays)
    with pytest.raises(CheckpointError) as refused:
        load_checkpoint(path, mine, params_of(arrays))
    message = str(refused.value)
    assert "epochs: 4 in the file, 3 for this run; seed: 1 in the file, 0 for this run" \
        in message
    assert "data" not in message.split("another run (")[1]


def test_without_a_key_another_runs_checkpoint_is_not_resumed(tmp_path):
    """train(..., checkpoint=P, resume=True) with no checkpoint_key derives one from
    the run: a checkpoint of other data is refused, its own is resumed."""
    x, y = blobs()
    path = tmp_path / "c.npz"
    train(SoftmaxRegression(5, 3, rng=0), x, y, checkpoint=path, **SETTINGS)
    other_x, other_y = blobs(seed=1)
    with pytest.raises(CheckpointError, match="written for another run"):
        train(SoftmaxRegression(5, 3, rng=0), other_x, other_y, checkpoint=path,
              resume=True, **SETTINGS)
    history = train(SoftmaxRegression(5, 3, rng=0), x, y, checkpoint=path, resume=True,
                    **SETTINGS)
    assert len(history.epochs) == 3                   # resumed its own: nothing to redo


def test_a_dangling_link_is_refused_not_taken_for_a_fresh_start(tmp_path):
    x, y = blobs()
    link = tmp_path / "c.npz"
    link.symlink_to(tmp_path / "gone.npz")
    with pytest.raises(ValueError, match="is a link to nothing"):
        train(SoftmaxRegression(5, 3, rng=0), x, y, checkpoint=link, resume=True, **SETTINGS)


def capped():
    resource.setrlimit(resource.RLIMIT_AS, (2 * 2**30, 2 * 2**30))


@pytest.mark.parametrize("kind", ["huge-header", "inflating"])
def test_members_are_bounded_by_the_bytes_present(saved, kind):
    """A member whose header claims (2**40,) values, or a compressed one that would
    inflate to 400 MB, is refused from the zip directory and the .npy header alone:
    in a process capped at 2 GiB, with the message naming the member."""
    path, header, arrays = saved
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED if kind == "inflating"
                         else zipfile.ZIP_STORED) as zf:
        if kind == "inflating":
            zf.writestr("junk.npy", b"\0" * (400 << 20))
        else:
            buf = io.BytesIO()
            np.lib.format.write_array_header_1_0(buf, {"descr": "<f8", "fortran_order": False,
                                                       "shape": (2**40,)})
            zf.writestr("huge.npy", buf.getvalue() + b"\0" * 64)
    code = ("import sys, json, numpy as np; from advref.training.checkpoint import "
            "load_checkpoint; from advref.training.checkpoint_checks import CheckpointError\n"
            "try:\n    load_checkpoint(sys.argv[1], 'k', {})\n"
            "except CheckpointError as e:\n    print(e)\n")
    proc = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                          text=True, timeout=60, preexec_fn=capped,
                          env=dict(os.environ, PYTHONPATH=str(ROOT), OPENBLAS_NUM_THREADS="1"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"{path}: corrupt checkpoint: member ")
    assert ("junk.npy is compressed" if kind == "inflating" else
            "huge.npy declares 8796093022208 bytes of data, it holds 64") in proc.stdout


def test_the_derived_key_changes_with_each_thing_it_covers():
    from advref.training.checkpoint_checks import derived_key

    x, y = blobs()
    xv, yv = blobs(20, seed=3)
    model = SoftmaxRegression(5, 3, rng=0)
    base = derived_key(model, x, y, xv, yv, 3, 10, 0.1)
    assert base.startswith("derived:") and len(base) == len("derived:") + 64
    assert derived_key(SoftmaxRegression(5, 3, rng=0), x, y, xv, yv, 3, 10, 0.1) == base
    others = [derived_key(SoftmaxRegression(5, 3, rng=0, dtype=np.float32), x, y, xv, yv, 3,
                          10, 0.1),
              derived_key(SoftmaxRegression(5, 4, rng=0), x, y, xv, yv, 3, 10, 0.1),
              derived_key(model, x + 1e-9, y, xv, yv, 3, 10, 0.1),
              derived_key(model, x, (y + 1) % 3, xv, yv, 3, 10, 0.1),
              derived_key(model, x, y, None, None, 3, 10, 0.1),
              derived_key(model, x, y, xv, yv, 4, 10, 0.1),
              derived_key(model, x, y, xv, yv, 3, 10, 0.2),
              derived_key(model, x.astype(np.float32), y, xv, yv, 3, 10, 0.1)]
    assert len({base, *others}) == len(others) + 1
    generator = derived_key(model, x, y, xv, yv, np.random.default_rng(0))
    assert generator == derived_key(model, x, y, xv, yv, np.random.default_rng(99))

    class NoConfig:
        pass

    assert derived_key(NoConfig(), x, y, None, None) != derived_key(model, x, y, None, None)


def test_key_differences_are_spelled_out():
    from advref.training.checkpoint_checks import key_difference

    assert key_difference({"a": 1, "b": 2}, {"a": 1, "b": 3, "c": "x"}) == (
        "b: 2 in the file, 3 for this run; c: '(absent)' in the file, 'x' for this run")
    assert key_difference("0123456789abcdef0123", "fedcba9876543210fedc") == (
        "its key 0123456789abcdef..., this run's fedcba9876543210...")
    assert key_difference({"a": 1}, "k") == "its key {'a': 1}..., this run's k..."
