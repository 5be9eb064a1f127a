"""advref.fitting: one typed spec of a training run, its keys, and one fit()."""

import json
from pathlib import Path

import numpy as np
import pytest

from advref.fitting.fit import CacheError, RunFiles, fit
from advref.fitting.recipes import get_recipe
from advref.fitting.spec import Monitor, Objective, TrainSpec
from advref.reproduce.cache import spec_for
from advref.reproduce.profiles import MODELS, PROFILES, get_profile
from advref.training.second_stage import train_two_stage
from advref.training.sgd import train

KEYS = Path(__file__).parents[1] / "data" / "cache_keys.json"


class FakeData:
    def __init__(self, name):
        self.name, self.digest = name, f"d-{name}"


def test_cache_keys_are_those_of_the_files_already_written():
    """tests/data/cache_keys.json holds the key of every model of every profile as the
    cache computed it at commit ec7679b, before advref.fitting existed (with these fake
    data digests). Cached models and checkpoints written then, runs in flight among
    them, are found and resumed only if every key is unchanged."""
    recorded = json.loads(KEYS.read_text())
    now = {}
    for profile_name in PROFILES:
        profile = get_profile(profile_name)
        for name in MODELS:
            data = FakeData(profile["binary"] if name == "logistic" else profile["data"])
            now[f"{profile_name}/{name}"] = spec_for(name, profile, data, 0).key()
    assert now == recorded
    assert len(recorded) == len(PROFILES) * len(MODELS)


def test_objective_and_monitor_refuse_what_they_cannot_train():
    with pytest.raises(ValueError, match="objective must be one of .* got 'nois'"):
        Objective("nois")
    with pytest.raises(ValueError, match="adv_grad='train' with objective 'noise-sign'"):
        Objective("noise-sign", adv_grad="train")
    with pytest.raises(ValueError, match="grad .* must be one of eval, train, got 'x'"):
        Objective("adversarial", adv_grad="x")
    with pytest.raises(ValueError, match="monitor must be 'clean' or 'adversarial', got 'a'"):
        Monitor("a")


def test_labels_say_what_trains():
    assert Objective("adversarial", clip=None, adv_grad="train").label() == (
        "adversarial eps 0.25 alpha 0.5, unclipped, x_adv from the training loss (dropout)")
    assert Objective("noise-uniform", eps=0.1).label() == "uniform noise eps 0.1"
    assert Objective("vat", eps=2.0, unlabelled=300).label() == "VAT eps 2.0 on 300 unlabelled"
    spec = TrainSpec(get_recipe("maxout"), {"epochs": 3}, Objective("adversarial"),
                     Monitor("adversarial"), data="sample", seed=2, member=3,
                     stage2="continue")
    assert spec.label() == ("maxout on sample (float32, seed 5, adversarial eps 0.25 alpha "
                            "0.5, monitor adversarial, then the continue rule)")
    assert spec.key()["objective"] == "adversarial eps 0.25 alpha 0.5"
    assert "adv_grad" not in spec.key() and "clip" not in spec.key()


def blobs(n=300, d=10, k=3, seed=0):
    gen = np.random.default_rng(seed)
    centres = gen.normal(0, 2, (k, d))
    y = gen.integers(0, k, n)
    return np.clip(centres[y] * 0.1 + gen.random((n, d)), 0, 1), y


@pytest.mark.parametrize("rule", [None, "retrain", "continue"])
def test_fit_is_the_training_library_called_directly(tmp_path, rule):
    """fit(spec) trains exactly as train() or train_two_stage() with the settings the
    spec states: the same parameters, bit for bit."""
    x, y = blobs()
    xv, yv = blobs(100, seed=1)
    recipe = get_recipe("softmax").with_train(epochs=4, patience=2)
    spec = TrainSpec(recipe, dict(recipe.train), Objective("adversarial", eps=0.1),
                     Monitor("adversarial", eps=0.1), data="blobs", seed=3, dtype="float64",
                     stage2=rule)
    done = fit(spec, x, y, xv, yv, 3, log=None)
    settings = spec.trainer_settings()

    def make():
        return recipe.build(10, 3, rng=3, dtype=np.float64)

    if rule is None:
        oracle = make()
        train(oracle, x, y, x_valid=xv, y_valid=yv, rng=3, log=None, **settings)
    else:
        oracle, _, h2 = train_two_stage(make, x, y, xv, yv, rule=rule, rng=3, log=None,
                                        **settings)
        assert len(done.stage2.epochs) == len(h2.epochs)
    for k, v in oracle.params.items():
        assert np.array_equal(done.model.params[k], v), k


def test_fit_saves_and_reuses_a_finished_stage_1_and_refuses_another_runs(tmp_path):
    x, y = blobs()
    xv, yv = blobs(100, seed=1)
    recipe = get_recipe("softmax").with_train(epochs=3, patience=2)
    spec = TrainSpec(recipe, dict(recipe.train), data="blobs", seed=1, dtype="float64",
                     stage2="retrain", scheme="reproduce", name="softmax")
    files = RunFiles(tmp_path / "s1.ckpt.npz", tmp_path / "s2.ckpt.npz", tmp_path / "s1.npz")
    first = fit(spec, x, y, xv, yv, 3, files=files, log=None)
    assert files.stage1_model.exists() and not first.stage1_loaded
    again = fit(spec, x, y, xv, yv, 3, files=files, log=None)
    assert again.stage1_loaded and again.stage1.to_dict() == first.stage1.to_dict()
    for k, v in first.model.params.items():
        assert np.array_equal(again.model.params[k], v), k
    other = TrainSpec(recipe, dict(recipe.train), data="blobs", seed=2, dtype="float64",
                      stage2="retrain", scheme="reproduce", name="softmax")
    with pytest.raises(CacheError, match="made for another recipe or data"):
        fit(other, x, y, xv, yv, 3, files=files, log=None)
