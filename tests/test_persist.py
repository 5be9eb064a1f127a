import json

import numpy as np
import pytest

import models
from models import ModelFileError, load, save
from models.persist import HEADER
from tests.test_models import make_all


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
    rewrite(saved, lambda a, h: a.update({"param/W0": np.zeros((6, 5))}))
    with pytest.raises(ModelFileError, match=r"parameter W0 should be \(6, 8\)"):
        load(saved)


def test_missing_parameter(saved):
    rewrite(saved, lambda a, h: a.pop("param/b1"))
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
