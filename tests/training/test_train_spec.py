"""advref.fitting: one typed spec of a training run, its keys, and one fit()."""

import io
import json
from pathlib import Path

import numpy as np
import pytest

from advref.fitting import spec as spec_module
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


def _keys_now():
    now = {}
    for profile_name in PROFILES:
        profile = get_profile(profile_name)
        for name in MODELS:
            data = FakeData(profile["binary"] if name == "logistic" else profile["data"])
            now[f"{profile_name}/{name}"] = spec_for(name, profile, data, 0).key()
    return now


def test_cache_keys_change_only_by_the_training_code(monkeypatch):
    """tests/data/cache_keys.json holds the key of every model of every profile as the
    cache computed it at commit ec7679b, before advref.fitting existed (with these fake
    data digests), under training code 2. The scheme is unchanged: with the code set
    back to 2 every key is the recorded one. Under the current code (3, the exact
    softmax gradient) every key differs, so no model trained with the old gradient is
    taken from a cache as a new one."""
    recorded = json.loads(KEYS.read_text())
    assert len(recorded) == len(PROFILES) * len(MODELS)
    current = _keys_now()
    assert spec_module.TRAINING_CODE == 3
    assert not set(current.values()) & set(recorded.values())
    monkeypatch.setattr(spec_module, "TRAINING_CODE", 2)
    assert _keys_now() == recorded


def test_objective_and_monitor_refuse_what_they_cannot_train():
    with pytest.raises(ValueError, match="objective must be one of .* got 'nois'"):
        Objective("nois")
    with pytest.raises(ValueError, match="adv_grad='train' with objective 'noise-sign'"):
        Objective("noise-sign", adv_grad="train")
    with pytest.raises(ValueError, match="grad .* must be one of eval, train, got 'x'"):
        Objective("adversarial", adv_grad="x")
    with pytest.raises(ValueError) as refused:
        Monitor("a")
    assert str(refused.value) == "monitor must be 'clean' or 'adversarial', got 'a' instead."


def test_labels_say_what_trains():
    assert Objective("adversarial", clip=None, adv_grad="train").label() == (
        "adversarial eps 0.25 alpha 0.5, unclipped, x_adv from the training loss (dropout)")
    assert Objective("noise-uniform", eps=0.1).label() == "uniform noise eps 0.1"
    assert Objective().label() == "clean" and Objective(clip=None).label() == "clean"
    assert Objective("vat", eps=2.0).label() == "VAT eps 2.0 (supervised)"
    assert TrainSpec(get_recipe("softmax"), {}).label() == (
        "softmax on mnist (float32, seed 0, clean, monitor clean)")
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
    assert not files.stage1_checkpoint.exists()      # stage 1 is in the model file now
    log = io.StringIO()
    again = fit(spec, x, y, xv, yv, 3, files=files, log=log)
    assert log.getvalue().splitlines()[0] == "stage 1 loaded from s1.npz"
    assert again.stage1_loaded and again.stage1.to_dict() == first.stage1.to_dict()
    for k, v in first.model.params.items():
        assert np.array_equal(again.model.params[k], v), k
    other = TrainSpec(recipe, dict(recipe.train), data="blobs", seed=2, dtype="float64",
                      stage2="retrain", scheme="reproduce", name="softmax")
    with pytest.raises(CacheError, match="made for another recipe or data"):
        fit(other, x, y, xv, yv, 3, files=files, log=None)


def test_monitors_are_the_errors_they_name():
    from advref.analysis.metrics import error_rate
    from advref.attacks.fast_gradient import fgsm

    x, y = blobs(300)
    model = get_recipe("softmax").build(10, 3, rng=0, dtype=np.float64)
    train(model, x, y, epochs=20, lr=0.5, log=None)
    assert 0 < error_rate(model, x, y) < 0.5
    assert Monitor().build() is error_rate and Monitor("clean", eps=0.7).build() is error_rate
    for clip in (None, (0.0, 1.0)):
        adv = Monitor("adversarial", eps=0.1, clip=clip).build()
        assert adv(model, x, y) == error_rate(model, fgsm(model, x, 0.1, y=y, clip=clip), y)
    unclipped = Monitor("adversarial", eps=0.1, clip=None).build()(model, x, y)
    assert unclipped != Monitor("adversarial", eps=0.1).build()(model, x, y)
    assert unclipped != error_rate(model, x, y)


def test_trainer_settings_hold_the_specs_parts():
    x, y = blobs(40)
    recipe = get_recipe("softmax")
    spec = TrainSpec(recipe, {"epochs": 2, "lr": 0.1}, Objective("noise-sign", eps=0.2),
                     Monitor("adversarial", eps=0.1), decay={"l2": {"W": 0.01}})
    got = spec.trainer_settings()
    assert set(got) == {"epochs", "lr", "l2", "objective", "monitor"}
    assert got["epochs"] == 2 and got["lr"] == 0.1 and got["l2"] == {"W": 0.01}
    assert "objective" not in TrainSpec(recipe, {"epochs": 1}).trainer_settings()
    model = recipe.build(10, 3, rng=0, dtype=np.float64)
    from advref.attacks.noise import random_sign

    loss, _ = got["objective"](model, x, y, np.random.default_rng(4))
    x_noisy = random_sign(x, 0.2, np.random.default_rng(4), clip=(0.0, 1.0))
    both = model.loss_and_grads(np.concatenate([x, x_noisy]), np.concatenate([y, y]))[0]
    assert loss == both


def test_the_train_schemes_key_is_the_dict_earlier_checkpoints_hold():
    """The `advref train` key, field by field, as the command wrote it before
    advref.fitting existed (a checkpoint stores this dict and must match it), with
    the training code raised to 3 since."""
    recipe = get_recipe("maxout").with_model(irange=0.05)
    settings = dict(recipe.train, epochs=3)
    spec = TrainSpec(recipe, settings, Objective("adversarial", clip=None),
                     Monitor("adversarial", clip=None), decay={"l1": {"W0": 0.001}},
                     data="sample", data_sha256="abc", seed=4, dtype="float32",
                     stage2="continue", labels=None)
    assert spec.key() == {
        "command": "train", "model": "maxout", "model_spec": recipe.model, "data": "sample",
        "data_sha256": "abc", "seed": 4, "dtype": "float32",
        "objective": "adversarial eps 0.25 alpha 0.5, unclipped", "labels": None,
        "second_stage": "continue", "training_code": 3,
        "settings": {**settings, "l1": {"W0": 0.001}, "monitor": "adversarial",
                     "monitor_eps": 0.25},
        "clip": None}
    train_mode = TrainSpec(recipe, settings, Objective("adversarial", adv_grad="train"),
                           data="sample", seed=4)
    assert train_mode.key()["adv_grad"] == "train" and "clip" not in train_mode.key()
    assert train_mode.key()["objective"].endswith(", x_adv from the training loss (dropout)")
    vat_spec = TrainSpec(get_recipe("softmax"), {}, Objective("vat", eps=2.0, unlabelled=7),
                         labels=30)
    assert vat_spec.key()["objective"] == "VAT eps 2.0 on 7 unlabelled"
    assert vat_spec.key()["labels"] == 30


def test_array_digest_is_sha256_of_shape_dtype_and_bytes():
    import hashlib

    from advref.fitting.spec import array_digest

    a, b = np.arange(6, dtype=np.float32).reshape(2, 3), np.array([1, 2], np.int64)
    h = hashlib.sha256()
    for arr in (a, b):
        h.update(str((arr.shape, arr.dtype.str)).encode())
        h.update(arr.tobytes())
    assert array_digest(a, b) == h.hexdigest()
    assert array_digest(a.T) != array_digest(a)          # same bytes, another shape
    assert array_digest(np.asfortranarray(a)) == array_digest(a)   # layout does not count


def test_objective_build_passes_every_setting_on():
    """Objective(...).build() is the library objective with the same settings: the
    adversarial mode, clip, eps and alpha, and VAT's unlabelled data and batch."""
    from advref.models import MaxoutMLP
    from advref.training.objectives import adversarial
    from advref.training.virtual_adversarial import vat

    model = MaxoutMLP(6, 3, units=(4,), pieces=2, irange=0.5, rng=0)
    x, y = np.random.default_rng(0).random((20, 6)), np.arange(20) % 3

    def run(objective):
        return objective(model, x, y, np.random.default_rng(5))

    for mode in ("eval", "train"):
        for clip in (None, (0.0, 1.0)):
            built = run(Objective("adversarial", eps=0.3, alpha=0.3, clip=clip,
                                  adv_grad=mode).build())
            direct = run(adversarial(0.3, 0.3, clip=clip, grad=mode))
            assert built[0] == direct[0]
            assert all(np.array_equal(built[1][k], direct[1][k]) for k in direct[1])
    train_mode = run(Objective("adversarial", adv_grad="train").build())[0]
    assert train_mode != run(Objective("adversarial").build())[0]
    x_u = np.random.default_rng(1).random((50, 6))
    softmax = get_recipe("softmax").build(6, 3, rng=0, dtype=np.float64)
    built = Objective("vat", eps=1.5, unlabelled=50).build(x_unlabelled=x_u,
                                                           unlabelled_batch=7)
    direct = vat(1.5, x_unlabelled=x_u, unlabelled_batch=7)
    a = built(softmax, x, y, np.random.default_rng(2))
    b = direct(softmax, x, y, np.random.default_rng(2))
    assert a[0] == b[0] and all(np.array_equal(a[1][k], b[1][k]) for k in b[1])
    supervised = Objective("vat", eps=1.5).build()(softmax, x, y, np.random.default_rng(2))
    assert supervised[0] != a[0]


def test_fit_trains_vat_on_the_unlabelled_data_it_is_given():
    """fit passes x_unlabelled and the recipe's batch size to VAT: the same parameters
    as train() with vat(eps, x_unlabelled, batch_size)."""
    from advref.training.virtual_adversarial import vat

    x, y = blobs(50)                     # batches of 20, 20, 10: the last one is short
    xv, yv = blobs(30, seed=1)
    x_u = blobs(80, seed=2)[0]
    recipe = get_recipe("softmax").with_train(epochs=2, batch_size=20, patience=None)
    spec = TrainSpec(recipe, dict(recipe.train), Objective("vat", eps=1.0, unlabelled=80),
                     data="blobs", seed=1, dtype="float64")
    done = fit(spec, x, y, xv, yv, 3, log=None, x_unlabelled=x_u)
    oracle = recipe.build(10, 3, rng=1, dtype=np.float64)
    train(oracle, x, y, x_valid=xv, y_valid=yv, rng=1, log=None, epochs=2, batch_size=20,
          lr=recipe.train["lr"], momentum=recipe.train["momentum"],
          objective=vat(1.0, x_unlabelled=x_u, unlabelled_batch=20))
    for k, v in oracle.params.items():
        assert np.array_equal(done.model.params[k], v), k
    assert done.epochs == 2 and done.seconds == done.stage1.seconds


def test_a_cached_file_is_refused_with_both_keys_and_both_classes_named(tmp_path):
    from advref import models
    from advref.fitting.fit import load_keyed

    path = tmp_path / "m.npz"
    models.save(get_recipe("softmax").build(4, 3), path, extra={"cache_key": "a" * 64})
    model, extra = load_keyed(path, "a" * 64, "SoftmaxRegression")
    assert extra["cache_key"] == "a" * 64
    with pytest.raises(CacheError) as refused:
        load_keyed(path, "b" * 64, "SoftmaxRegression")
    assert str(refused.value) == (f"{path}: this cached model was made for another recipe or "
                                  f"data (its key {'a' * 16}, expected {'b' * 16}); remove it "
                                  "to retrain")
    with pytest.raises(CacheError) as refused:
        load_keyed(path, "a" * 64, "MaxoutMLP")
    assert str(refused.value) == (f"{path}: cached model is a SoftmaxRegression, the recipe "
                                  "trains a MaxoutMLP; remove it to retrain")


def test_fit_gives_data_driven_inits_the_training_data():
    """The RBF recipe starts its centres at the class means of the training data it
    is fitted on: fit's model equals the recipe built with (x, y) and trained alike."""
    x, y = blobs(90)
    xv, yv = blobs(30, seed=1)
    recipe = get_recipe("rbf").with_train(epochs=1, patience=None)
    spec = TrainSpec(recipe, dict(recipe.train), data="blobs", seed=2, dtype="float64")
    done = fit(spec, x, y, xv, yv, 3, log=None)
    oracle = recipe.build(10, 3, rng=2, dtype=np.float64, x=x, y=y)
    centres = np.stack([x[y == c].mean(axis=0) for c in range(3)])
    assert np.allclose(oracle.params["mu"], centres)
    train(oracle, x, y, x_valid=xv, y_valid=yv, rng=2, log=None, **spec.trainer_settings())
    for k, v in oracle.params.items():
        assert np.array_equal(done.model.params[k], v), k

