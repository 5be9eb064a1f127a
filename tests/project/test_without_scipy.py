"""NumPy without SciPy (issue 31): SciPy is optional in fact. A `scipy` package that
fails to import, first on the path, stands in for an environment without it."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    shadow = tmp_path_factory.mktemp("no_scipy")
    (shadow / "scipy").mkdir()
    (shadow / "scipy" / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'scipy'\", name='scipy')\n")
    return dict(os.environ, PYTHONPATH=f"{shadow}{os.pathsep}{ROOT}", OPENBLAS_NUM_THREADS="1")


def run(env, *argv, cwd):
    return subprocess.run([sys.executable, *argv], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)


def test_the_stand_in_hides_scipy(env, tmp_path):
    proc = run(env, "-c", "import scipy", cwd=tmp_path)
    assert proc.returncode == 1 and "No module named 'scipy'" in proc.stderr


def test_everything_but_l_bfgs_works_and_minimal_says_why_not(env, tmp_path):
    code = ("import numpy as np, advref\n"
            "from advref._validation import MissingDependency\n"
            "from advref.models import SoftmaxRegression\n"
            "from advref.data_loaders import load_mnist_sample\n"
            "d = load_mnist_sample(dtype=np.float32)\n"
            "m = SoftmaxRegression(784, 10, dtype=np.float32)\n"
            "advref.train(m, d.x_train, d.y_train, epochs=1, log=None)\n"
            "x = advref.fgsm(m, d.x_test[:5], 0.25, y=d.y_test[:5])\n"
            "try:\n    advref.minimal_perturbation(m, d.x_test[:2])\n"
            "except MissingDependency as e:\n    print(e)\n")
    proc = run(env, "-c", code, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ("minimal_perturbation needs SciPy (its L-BFGS-B optimizer), "
                                   "which is not installed here: pip install scipy")
    assert run(env, "-m", "advref", "train", "softmax", "--data", "sample", "--epochs", "1",
               "--out", "m.npz", cwd=tmp_path).returncode == 0
    proc = run(env, "-m", "advref", "minimal", "m.npz", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("advref minimal: error: advref minimal needs SciPy (its "
                                   "L-BFGS-B optimizer), which is not installed here: pip "
                                   "install scipy")


def test_reproduce_writes_the_other_rows_and_marks_the_skipped(env, tmp_path):
    proc = run(env, "-m", "advref", "reproduce", "--profile", "sample", "--jobs", "1",
               "--only", "minimal_size", "subspace", "--out", "r", "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout)
    assert list(result["skipped"]) == ["minimal_size"]
    assert result["machine"]["scipy"] is None
    assert {r["id"].split("-")[0] for r in result["rows"]} >= {"subspace"}
    assert not any(r["id"].startswith("bench2") for r in result["rows"])
    assert "| minimal_size | skipped |" in (tmp_path / "r" / "results.md").read_text()


def test_the_suite_collects_and_skips_the_modules_that_import_scipy(env, tmp_path):
    """The two test modules that import SciPy skip with the reason; the others in the
    same run collect and pass (here FGSM's)."""
    proc = run(env, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(ROOT),
               str(ROOT / "tests/attacks/test_minimal_batched.py"),
               str(ROOT / "tests/tools/test_blas_threads.py"),
               str(ROOT / "tests/attacks/test_attacks.py"), cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert " passed, 2 skipped" in proc.stdout
    assert "these tests drive SciPy's L-BFGS-B" in proc.stdout
