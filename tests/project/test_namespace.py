"""advref claims no import name but its own: it works inside a user's project that has
packages called `models` and `data_loaders` of its own."""

import importlib.metadata
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TRAP = "raise RuntimeError('advref imported the project\\'s own {name} package')\n"


def user_project(tmp_path):
    """A folder with its own models/ and data_loaders/, which fail if advref imports
    them, and a script that uses both its own packages and advref's."""
    for name in ("models", "data_loaders"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text(TRAP.format(name=name))
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "__init__.py").write_text("WHO = 'user'\n")
    return tmp_path


def run(cmd, cwd, **env):
    full = dict(os.environ, **env)
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=full, timeout=300)


@pytest.mark.parametrize("command", [
    ["-c", "import advref; from advref import models; "
           "m = models.SoftmaxRegression(4, 3); print(type(m).__module__)"],
    ["-m", "advref", "gradcheck", "softmax", "maxout"],
    ["-m", "advref", "train", "softmax", "--data", "sample", "--epochs", "1", "--out",
     "m.npz"],
])
def test_advref_runs_inside_a_project_with_its_own_models_package(tmp_path, command):
    project = user_project(tmp_path)
    proc = run([sys.executable, *command], project, PYTHONPATH=str(ROOT))
    assert proc.returncode == 0, proc.stderr
    assert "advref imported the project" not in proc.stderr
    if command[0] == "-c":
        assert proc.stdout.strip() == "advref.models.linear"


def test_the_projects_own_packages_still_import_beside_advref(tmp_path):
    project = user_project(tmp_path)
    (project / "models" / "__init__.py").write_text("WHO = 'user'\n")
    proc = run([sys.executable, "-c", "import models as theirs, advref; "
                "from advref import models as a; print(theirs.WHO, a.__name__)"], project,
               PYTHONPATH=str(ROOT))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["user", "advref.models"]


def installed_advref():
    """The installed distribution (its RECORD), not the checkout's build metadata
    (advref.egg-info, which pytest's path to the checkout also finds)."""
    for dist in importlib.metadata.distributions(name="advref"):
        if dist.read_text("RECORD"):
            return dist
    return None


@pytest.mark.skipif(installed_advref() is None, reason="advref is not installed here (CI "
                    "installs it with pip install .)")
def test_the_installed_distribution_claims_only_the_advref_name(tmp_path):
    files = installed_advref().files or []
    tops = {f.parts[0] for f in files if f.suffix == ".py" and len(f.parts) > 1}
    if tops:                                   # a wheel install lists its modules
        assert tops == {"advref"}
    beside = Path(sys.executable).with_name("advref")      # the environment's own script
    script = str(beside) if beside.exists() else shutil.which("advref")
    assert script is not None
    project = user_project(tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([script, "gradcheck", "softmax"], cwd=project, capture_output=True,
                          text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr


def test_setup_cfg_lists_every_package_of_the_tree():
    """A subpackage missing from setup.cfg is missing from the installed advref."""
    import configparser

    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    listed = {p.strip() for p in config["options"]["packages"].split(",")}
    tree = {".".join(p.parent.relative_to(ROOT).parts)
            for p in (ROOT / "advref").rglob("__init__.py")}
    tree |= {"advref.models", "advref.data_loaders"}
    assert listed == tree
    mapped = dict(line.split("=") for line in
                  config["options"]["package_dir"].strip().splitlines())
    assert {k.strip(): v.strip() for k, v in mapped.items()} == {
        "advref.models": "models", "advref.data_loaders": "data_loaders"}
