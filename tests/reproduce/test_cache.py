"""The reproduce model cache trusts no file name: a swapped or corrupt file is refused."""

import numpy as np
import pytest

from advref import models
from advref.models import ModelFileError
from advref.reproduce.cache import CacheError, ModelCache
from advref.reproduce.context import Data
from advref.reproduce.profiles import get_profile


@pytest.fixture
def cache(tmp_path):
    c = ModelCache(tmp_path, get_profile("sample"), seed=0, log=None)
    assert not c.folder.exists()              # made when a model is first trained
    c.folder.mkdir(parents=True)              # these tests plant files in it first
    return c, Data.load("sample", "float32")


def test_swapped_model_file_is_refused(cache):
    c, data = cache
    spec, key = c.key("maxout", data)
    imposter = models.SoftmaxRegression(784, 10, dtype=np.float32)
    models.save(imposter, c.path("maxout", key), extra={"cache_key": key})
    with pytest.raises(CacheError, match="SoftmaxRegression.*MaxoutMLP"):
        c.get("maxout", data)
    models.save(imposter, c.path("maxout", key), extra={"epochs": 1})
    with pytest.raises(CacheError, match="another recipe"):
        c.get("maxout", data)
    assert c.trained == []                        # nothing retrained silently


def test_file_of_another_key_is_refused(cache):
    c, data = cache
    _, key = c.key("softmax", data)
    _, other = c.key("logistic", Data.load("binary37-sample", "float32"))
    models.save(models.SoftmaxRegression(784, 10, dtype=np.float32), c.path("softmax", key),
                extra={"cache_key": other})
    with pytest.raises(CacheError, match="another recipe or data"):
        c.get("softmax", data)


def test_corrupt_cached_file_is_refused(cache):
    c, data = cache
    _, key = c.key("softmax", data)
    c.path("softmax", key).write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ModelFileError):
        c.get("softmax", data)
    assert c.trained == []


def test_key_changes_with_what_determines_the_parameters(cache):
    c, data = cache
    base = c.key("maxout-adv", data)[1]
    assert c.key("maxout", data)[1] != base
    c.seed = 1
    assert c.key("maxout-adv", data)[1] != base
    c.seed = 0
    paper = ModelCache(c.folder.parent, get_profile("paper"), seed=0, log=None)
    spec = paper.spec("maxout-adv", data)
    assert spec.variant()["clip"] is None                 # the paper's formulas clip nowhere
    assert spec.objective.adv_grad == "train" and spec.variant()["adv_grad"] == "train"
    assert spec.stage2 == spec.recipe.second_stage == "continue"
    assert paper.spec("maxout1600-adv", data).stage2 == "retrain"
    assert c.spec("maxout-adv", data).variant()["clip"] == [0.0, 1.0]
    assert "adv_grad" not in c.spec("maxout-adv", data).variant()     # eval: as before


def test_parameters_changed_under_the_same_key_are_refused(cache):
    """A cached file records the digest of its parameters: negate them, keep the key
    and the record, and the file is refused rather than used."""
    c, data = cache
    model = c.get("softmax", data)
    path = c.path("softmax", c.key("softmax", data)[1])
    _, extra = models.load(path, with_extra=True)
    assert extra["params_sha256"] == models.params_digest(model)
    forged = models.load(path)
    for v in forged.params.values():
        np.negative(v, out=v)
    models.save(forged, path, extra=extra)
    fresh = ModelCache(c.folder.parent, get_profile("sample"), seed=0, log=None)
    with pytest.raises(CacheError, match="its parameters are not the ones trained under its "
                       "key"):
        fresh.get("softmax", data)
    assert fresh.trained == []


def test_two_runs_into_one_folder_train_each_model_once(tmp_path):
    """Two processes that want the same model: one trains it while the other waits for
    it and then loads it; neither deletes what the other writes."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    code = ("import sys; from advref.reproduce.runner import train_models; "
            "train_models('sample', sys.argv[1], ['maxout'])")
    env = dict(os.environ, PYTHONPATH=str(root), OPENBLAS_NUM_THREADS="1")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], env=env,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    logs = [p.communicate(timeout=600)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], logs
    assert sum("maxout: training" in log for log in logs) == 1, logs
    assert sum("maxout: loaded from cache" in log for log in logs) == 1, logs
    assert any("another run is training it; waiting" in log for log in logs), logs
    files = sorted(p.name for p in (tmp_path / "models").iterdir() if p.name != ".locks")
    assert len(files) == 1 and files[0].startswith("maxout-") and files[0].endswith(".npz")
