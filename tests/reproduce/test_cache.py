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
    return ModelCache(tmp_path, get_profile("sample"), seed=0, log=None), Data.load("sample",
                                                                                   "float32")


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
