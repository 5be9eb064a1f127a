import io
import json
import zipfile

import numpy as np
import pytest

from advref import models
from advref.models import ModelFileError, load, save
from advref.models.persist import HEADER
from tests.models.test_models import make_all


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("index", range(6))
def test_round_trip_is_bit_exact(tmp_path, index, dtype):
    model = make_all(dtype)[index]
    rng = np.random.default_rng(index)
    for k, v in model.params.items():
        model.params[k] = rng.standard_normal(v.shape).astype(dtype)
    path = tmp_path / "m.npz"
    save(model, path, extra={"note": "hi"})
    back, extra = load(path, with_extra=True)
    assert type(back) is type(model) and back.config() == model.config()
    assert extra == {"note": "hi"}
    for k, v in model.params.items():
        assert back.params[k].dtype == v.dtype
        np.testing.assert_array_equal(back.params[k], v)
    x = rng.random((3, model.n_features)).astype(dtype)
    np.testing.assert_array_equal(back.predict_proba(x), model.predict_proba(x))
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]


def rewrite(path, change):
    with np.load(path, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    header = json.loads(str(arrays[HEADER][()]))
    change(arrays, header)
    arrays[HEADER] = np.array(json.dumps(header))
    np.savez(path, **arrays)


@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "m.npz"
    save(models.MaxoutMLP(6, 3, units=(4,), pieces=2), path)
    return path


def test_not_a_zip(tmp_path):
    path = tmp_path / "x.npz"
    path.write_bytes(b"definitely not a model")
    with pytest.raises(ModelFileError, match="not a readable .npz"):
        load(path)


def test_truncated(saved):
    saved.write_bytes(saved.read_bytes()[:200])
    with pytest.raises(ModelFileError, match=str(saved.name)):
        load(saved)


def test_plain_npz_is_not_a_model(tmp_path):
    path = tmp_path / "plain.npz"
    np.savez(path, a=np.zeros(3))
    with pytest.raises(ModelFileError, match="not an advref model file"):
        load(path)


def test_unknown_version(saved):
    rewrite(saved, lambda a, h: h.update(version=99))
    with pytest.raises(ModelFileError, match="version 99 is not supported"):
        load(saved)


def unit_major_forward(params, x, units, pieces):
    """Maxout as version-1 files stored it: piece r of unit j in column j*pieces + r."""
    a = x
    for i, u in enumerate(units):
        z = a @ params[f"W{i}"] + params[f"b{i}"]
        a = z.reshape(len(x), u, pieces).max(axis=2)
    last = len(units)
    return a @ params[f"W{last}"] + params[f"b{last}"]


def test_version_1_maxout_is_reordered_to_the_same_function(tmp_path):
    units, pieces = (4, 3), 2
    rng = np.random.default_rng(7)
    v1 = {}
    for i, (fan_in, fan_out) in enumerate([(6, 8), (4, 6), (3, 5)]):
        v1[f"W{i}"] = rng.standard_normal((fan_in, fan_out))
        v1[f"b{i}"] = rng.standard_normal(fan_out)
    path = tmp_path / "old.npz"
    save(models.MaxoutMLP(6, 5, units=units, pieces=pieces), path)
    rewrite(path, lambda a, h: (h.update(version=1),
                                a.update({f"param/{k}": v for k, v in v1.items()})))
    model = load(path)
    x = rng.random((9, 6))
    np.testing.assert_allclose(model.forward(x)[0], unit_major_forward(v1, x, units, pieces),
                               rtol=1e-13)
    # Saved again, it is a version-2 file that loads to the same parameters.
    save(model, tmp_path / "new.npz")
    again = load(tmp_path / "new.npz")
    for k, v in model.params.items():
        np.testing.assert_array_equal(again.params[k], v)


def test_unknown_class(saved):
    rewrite(saved, lambda a, h: h.update({"class": "Perceptron"}))
    with pytest.raises(ModelFileError, match="unknown model class 'Perceptron'"):
        load(saved)


def test_wrong_shape(saved):
    rewrite(saved, lambda a, h: a.update({"param/W0": np.zeros((8, 6))}))   # same size
    with pytest.raises(ModelFileError, match=r"parameter W0 should be \(6, 8\)"):
        load(saved)


def test_missing_parameter(saved):
    rewrite(saved, lambda a, h: a.pop("param/b1"))          # 3 of the 71 parameters
    with pytest.raises(ModelFileError, match="implies 71 parameters, the file stores 68"):
        load(saved)
    # the same count under another name: the names are checked too
    rewrite(saved, lambda a, h: a.update({"param/bias": np.zeros(3)}))
    with pytest.raises(ModelFileError, match="expects parameters"):
        load(saved)


UNPICKLED = []


def record_unpickling():
    UNPICKLED.append(True)
    return 0


class Tripwire:
    """Unpickling this object calls record_unpickling: proof that pickle ran."""

    def __reduce__(self):
        return (record_unpickling, ())


@pytest.mark.parametrize("member", ["param/W0.npy", "param/evil.npy", f"{HEADER}.npy"])
def test_pickled_array_is_refused_and_never_unpickled(saved, tmp_path, member):
    arrays = {}
    with np.load(saved, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays[member[:-4]] = np.array([Tripwire()], dtype=object)
    evil = tmp_path / "evil.npz"
    np.savez(evil, **arrays)
    # the tripwire works: a loader that allowed pickle would trip it
    with np.load(evil, allow_pickle=True) as npz:
        npz[member[:-4]]
    assert UNPICKLED == [True]
    UNPICKLED.clear()
    with pytest.raises(ModelFileError, match="object array") as err:
        load(evil)
    assert "allow_pickle" not in str(err.value)
    assert UNPICKLED == []


def test_save_refuses_foreign_objects(tmp_path):
    with pytest.raises(TypeError, match="save stores advref models"):
        save(object(), tmp_path / "x.npz")


def test_config_that_asks_for_more_than_the_file_holds_is_refused_before_building(saved):
    # 10^5 units of 2 pieces on 6 inputs, 3 classes: 6*2e5 + 2e5 + 1e5*3 + 3 parameters,
    # which load would build before reading them; the file holds 71
    rewrite(saved, lambda a, h: h["config"].update({"units": [100_000]}))
    import tracemalloc

    tracemalloc.start()
    with pytest.raises(ModelFileError, match="implies 1700003 parameters, the file stores 71"):
        load(saved)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < saved.stat().st_size + 256 * 1024, peak     # not the 13.6 MB it asks for
    rewrite(saved, lambda a, h: h["config"].update({"units": ["4"]}))
    with pytest.raises(ModelFileError, match="units must be a positive integer"):
        load(saved)


def test_member_declaring_more_data_than_it_holds_is_refused(saved, tmp_path):
    with zipfile.ZipFile(saved) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    raw = members["param/W0.npy"]
    # the .npy header's shape says (9, 8): 576 bytes declared for 384 held
    members["param/W0.npy"] = raw.replace(b"'shape': (6, 8)", b"'shape': (9, 8)")
    bad = tmp_path / "bad.npz"
    with zipfile.ZipFile(bad, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    with pytest.raises(ModelFileError, match="declares 576 bytes of data, it holds 384"):
        load(bad)


def test_compressed_members_are_refused(saved, tmp_path):
    with np.load(saved) as npz:
        arrays = {k: npz[k] for k in npz.files}
    squeezed = tmp_path / "c.npz"
    np.savez_compressed(squeezed, **arrays)
    with pytest.raises(ModelFileError, match="compressed"):
        load(squeezed)


@pytest.mark.parametrize("kind", ["fifo", "directory"])
def test_special_files_are_refused_without_blocking(tmp_path, kind):
    import os

    target = tmp_path / "m.npz"
    if kind == "fifo":
        os.mkfifo(target)
    else:
        target.mkdir()
    with pytest.raises(ModelFileError, match="regular file"):
        load(target)


def test_saving_a_nan_parameter_is_refused(tmp_path):
    model = models.SoftmaxRegression(3, 2)
    model.params["W"][0, 0] = np.nan
    with pytest.raises(ValueError, match="parameter W holds NaN"):
        save(model, tmp_path / "m.npz")
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("stage", ["open", "write", "replace"])
def test_an_interrupt_at_any_point_of_a_save_leaves_no_temporary_file(tmp_path, monkeypatch,
                                                                      stage):
    """Ctrl-C or SIGTERM (turned into an exception) landing just after the temporary
    file is created, during the write, or during the rename: the old file stays
    whole and no .part file remains."""
    import os

    target = tmp_path / "m.npz"
    save(models.SoftmaxRegression(3, 2, rng=1), target)
    before = target.read_bytes()
    real = {"open": os.open, "write": os.fsync, "replace": os.replace}[stage]

    def interrupted(*args, **kwargs):
        real(*args, **kwargs)      # the call completes (the file exists), then the signal lands
        raise KeyboardInterrupt

    monkeypatch.setattr(os, {"write": "fsync"}.get(stage, stage), interrupted)
    with pytest.raises(KeyboardInterrupt):
        save(models.SoftmaxRegression(3, 2, rng=2), target)
    monkeypatch.undo()
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]
    if stage != "replace":
        assert target.read_bytes() == before


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_a_saved_file_has_the_permissions_the_umask_gives_a_new_file(tmp_path, umask):
    """Like open(path, "w"): 0o666 less the umask, not the temporary file's 0o600."""
    import os

    old = os.umask(umask)
    try:
        save(models.SoftmaxRegression(3, 2), tmp_path / "m.npz")
    finally:
        os.umask(old)
    assert (tmp_path / "m.npz").stat().st_mode & 0o777 == 0o666 & ~umask


def test_junk_members_are_refused_and_their_count_bounded_before_parsing(tmp_path):
    """A model file with an extra member is refused by name; one whose zip directory
    declares more than MAX_MEMBERS (here 5,000; the issue's 200,000 take the same path)
    is refused from the end record, without parsing them."""
    import time
    import tracemalloc
    import zipfile

    from advref.models.file_checks import MAX_MEMBERS, zip_entry_count

    path = tmp_path / "m.npz"
    from advref.models import SoftmaxRegression

    models.save(SoftmaxRegression(4, 3), path)
    assert zip_entry_count(path) == 3                  # W, b and the header, by hand
    buf = io.BytesIO()
    np.save(buf, np.zeros(2))
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr("extra.npy", buf.getvalue())
    with pytest.raises(ModelFileError, match=r"holds 1 member\(s\) that no advref model file "
                       r"has \(extra\)"):
        models.load(path)
    many = tmp_path / "many.npz"
    with zipfile.ZipFile(many, "w") as zf:
        for i in range(5_000):
            zf.writestr(f"param/j{i}.npy", b"")
    tracemalloc.start()
    start = time.perf_counter()
    with pytest.raises(ModelFileError, match=f"declares 5000 members, more than the "
                       f"{MAX_MEMBERS}"):
        models.load(many)
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert seconds < 1.0 and peak < 1 << 20


@pytest.mark.parametrize("extra, message", [
    ("trained on mnist", "its metadata (header field extra) must be a JSON object, got str "
                         "'trained on mnist'"),
    ([1, 2], "its metadata (header field extra) must be a JSON object, got list '[1, 2]'"),
    ({"data": 7}, "its metadata field data must be a data name or null, got int"),
])
def test_metadata_that_is_not_an_object_is_refused_by_name(saved, capsys, extra, message):
    rewrite(saved, lambda a, h: h.update(extra=extra))
    with pytest.raises(ModelFileError) as refused:
        load(saved, with_extra=True)
    assert str(refused.value) == f"{saved}: {message}"
    from advref.cli import main
    assert main(["attack", str(saved), "--data", "sample", "--n", "2"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == f"advref attack: error: {saved}: {message}"
