"""Issue 30's cases left from the first campaign: each is refused before any work,
with a one-line message naming the argument, exit status 2 for the commands,
within a time bound and under a memory cap far below what the request asked for."""

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from advref.attacks.rubbish import rubbish_samples
from advref.models import MLP, MaxoutMLP, SoftmaxRegression
from advref.models.validation import physical_memory
from advref.training.virtual_adversarial import virtual_adversarial_perturbation

ROOT = Path(__file__).resolve().parents[2]
CAP = 3 * 2**30                      # address space of each refused command: 3 GiB


def capped():
    resource.setrlimit(resource.RLIMIT_AS, (CAP, CAP))


def refused(*argv, cwd):
    """(status, stderr, seconds) of `advref ARGV` under the memory cap."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "advref", *argv], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120, preexec_fn=capped)
    return proc.returncode, proc.stderr.strip(), time.monotonic() - start


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("m")
    path = folder / "softmax.npz"
    from advref.cli.parser import main
    assert main(["train", "softmax", "--data", "sample", "--epochs", "1", "--out",
                 str(path)]) == 0
    return path


@pytest.mark.parametrize("argv, message", [
    (["bench", "--batch", "-5"], "advref bench: error: --batch must be positive batch sizes, "
     "got -5 instead."),
    (["reproduce", "--jobs", str(10**30)], "advref reproduce: error: --jobs must be between 1 "
     f"and 1024 processes, got {10**30} instead."),
    (["reproduce", "--seed", "-1", "--profile", "sample"],
     "advref reproduce: error: --seed must be >= 0, got -1 instead."),
    (["train", "softmax", "--data", "sample", "--eps", "-1", "--out", "m.npz"],
     "advref train: error: --eps must be >= 0 and finite, got -1.0 instead."),
    (["minimal", "{model}", "--processes", "0"],
     "advref minimal: error: --processes must be between 1 and 64 processes, got 0 instead."),
    (["minimal", "{model}", "--processes", "2", "--one-at-a-time"],
     "advref minimal: error: --processes shares the batched search among processes and "
     "--one-at-a-time solves in this process: give one of them, got --processes 2 with "
     "--one-at-a-time."),
    (["rubbish", "{model}", "--samples", str(10**9)],
     "advref rubbish: error: --samples must fit in this machine's"),
])
def test_commands_refuse_before_any_work(tmp_path, model_file, argv, message):
    argv = [a.replace("{model}", str(model_file)) for a in argv]
    status, err, seconds = refused(*argv, cwd=tmp_path)
    assert status == 2, err
    assert err.startswith(message) and len(err.splitlines()) == 1, err
    assert "Traceback" not in err
    assert seconds < 60
    assert not (tmp_path / "m.npz").exists() and list(tmp_path.iterdir()) == []


def test_models_too_large_for_memory_are_refused_before_allocating():
    total = physical_memory()
    assert total is not None                       # Linux says, through sysconf
    with pytest.raises(ValueError, match=r"^units must fit in this machine's .* GiB of memory, "
                       r"got units=\(1000000000,\) \(3,935,000,000,010 parameters\) needing"):
        MaxoutMLP(units=(10**9,))
    # 784*1e9*5 + 1e9*5 + 1e9*10 + 10 parameters (maxout 784 -> 1e9 x 5 -> 10): by hand
    assert 784 * 10**9 * 5 + 10**9 * 5 + 10**9 * 10 + 10 == 3_935_000_000_010
    with pytest.raises(ValueError, match=r"^hidden must fit"):
        MLP(hidden=(10**6, 10**6))
    # the largest sizes that fit are still built
    assert MaxoutMLP(units=(8,), pieces=2).params["W0"].shape == (784, 16)


def test_rubbish_samples_refuse_a_draw_larger_than_memory():
    x = np.zeros((3, 784))
    with pytest.raises(ValueError, match=r"^n must fit in this machine's .*, got "
                       r"n=1,000,000,000 samples of 784 needing"):
        rubbish_samples(10**9, x_train=x, rng=0)


def test_vat_checks_its_input():
    model = SoftmaxRegression(3, 2, rng=0)
    x = np.random.default_rng(0).random((4, 3))
    bad = x.copy()
    bad[1, 2] = np.nan
    with pytest.raises(ValueError, match=r"^x must be finite"):
        virtual_adversarial_perturbation(model, bad, eps=0.5)
    with pytest.raises(TypeError, match=r"^x must be float32 or float64"):
        virtual_adversarial_perturbation(model, np.ones((4, 3), np.int64), eps=0.5)
    assert np.isnan(bad[1, 2])                     # the caller's array is not changed


def test_without_a_home_folder_the_cache_is_skipped_and_named(monkeypatch, tmp_path):
    """No HOME and no passwd entry: Path.home() raises. Looking for MNIST then skips
    the user cache, and a download without --dest says what to set."""
    from advref.data_loaders import mnist_files
    from advref.data_loaders.download import download_mnist

    def no_home():
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr(Path, "home", staticmethod(no_home))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("ADVREF_DATA", str(tmp_path))
    assert mnist_files.candidate_sources() == [("ADVREF_DATA", tmp_path)]
    assert mnist_files.candidate_sources("d") == [("argument", Path("d")),
                                                  ("ADVREF_DATA", tmp_path)]
    with pytest.raises(ValueError, match="^the user cache folder needs XDG_CACHE_HOME or a "
                       "home folder, got neither"):
        download_mnist(mirrors=("http://127.0.0.1:9/",))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "c"))
    assert mnist_files.candidate_sources()[-1] == ("user cache", tmp_path / "c/advref/mnist")


def test_data_info_names_advref_data(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "ADVREF_DATA"}
    env.update(PYTHONPATH=str(ROOT), XDG_CACHE_HOME=str(tmp_path))
    unset = subprocess.run([sys.executable, "-m", "advref", "data", "info"], cwd=tmp_path,
                           env=env, capture_output=True, text=True, timeout=60)
    assert unset.returncode == 1
    assert "ADVREF_DATA is not set" in unset.stdout
    assert "full MNIST: not found (set ADVREF_DATA to a folder" in unset.stdout
    env["ADVREF_DATA"] = str(tmp_path / "here")
    named = subprocess.run([sys.executable, "-m", "advref", "data", "info"], cwd=tmp_path,
                           env=env, capture_output=True, text=True, timeout=60)
    assert f"  {tmp_path / 'here'}  (ADVREF_DATA)" in named.stdout.splitlines()
    assert "ADVREF_DATA is not set" not in named.stdout


def test_this_sessions_command_cases_are_refused_capped_and_quick(tmp_path, model_file):
    """The cases closed on 2026-12-04, run as processes under the 3 GiB cap: a model
    file whose metadata is a string; a `--impl` module with a syntax error; a worker
    pool that cannot be made (OSError 30, as a read-only /dev/shm gives, injected
    in the process before the command runs)."""
    import json

    from advref.tools.vectors import generate

    with np.load(model_file, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    header = json.loads(str(arrays["__advref__"][()]))
    header["extra"] = "trained on mnist"
    arrays["__advref__"] = np.array(json.dumps(header))
    odd = tmp_path / "odd.npz"
    np.savez(odd, **arrays)
    status, err, seconds = refused("attack", str(odd), "--data", "sample", "--n", "2",
                                   cwd=tmp_path)
    assert (status, err) == (2, f"advref attack: error: {odd}: its metadata (header field "
                                "extra) must be a JSON object, got str 'trained on mnist'")
    assert seconds < 60

    generate(tmp_path / "vectors")
    (tmp_path / "broken_subject_mod.py").write_text("def fgsm(:\n")
    status, err, seconds = refused("vectors", "--check", str(tmp_path / "vectors"), "--impl",
                                   "broken_subject_mod:SUBJECT", cwd=tmp_path)
    assert status == 2 and len(err.splitlines()) == 1 and seconds < 60, err
    assert err.startswith("advref vectors: error: --impl: the subject's module "
                          "'broken_subject_mod' raised SyntaxError on import: ")

    inject = ("import errno, sys\n"
              "import advref.reproduce.runner as runner\n"
              "def no_shm(*a, **k):\n"
              "    raise OSError(errno.EROFS, 'Read-only file system')\n"
              "runner.ProcessPoolExecutor = no_shm\n"
              "from advref.cli import main\n"
              "sys.exit(main(sys.argv[1:]))\n")
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", inject, "reproduce", "--profile", "sample",
                           "--jobs", "2", "--only", "fgsm_error_rates", "--out", "r"],
                          cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120, preexec_fn=capped)
    assert proc.returncode == 1 and time.monotonic() - start < 60
    assert proc.stderr.strip().splitlines()[-1] == (
        "advref reproduce: error: --jobs 2 could not start its worker processes ([Errno 30] "
        "Read-only file system; Python's multiprocessing needs a writable /dev/shm); "
        "--jobs 1 trains in this process and works without it")
    assert "Traceback" not in proc.stderr and not (tmp_path / "r" / "results.json").exists()
