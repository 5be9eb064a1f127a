"""Every command of the README's Commands table, run as written there (optional
parts in brackets left out, placeholders filled in), on full MNIST."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import HAVE_SCIPY

ROOT = Path(__file__).resolve().parents[2]
# the forms not run here, and why
NOT_RUN = {
    "advref data fetch": "downloads from the internet; tests/data serves it a local mirror",
    "advref reproduce": "the quick profile takes minutes; tests/reproduce runs the sample "
                        "profile end to end",
    "advref bench": "times the machine for about a minute; tests/cli/test_cli.py runs it "
                    "on one small batch",
}


def readme_forms():
    """The command forms of the Commands table, brackets removed, in table order."""
    text = (ROOT / "README.md").read_text()
    table = text.split("## Commands", 1)[1].split("From Python", 1)[0]
    forms = []
    for row in table.splitlines():
        if not row.startswith("| `advref"):
            continue
        cell = row.split(" | ")[0]
        base = None
        for code in re.findall(r"`([^`]*)`", cell.replace("\\|", "|")):
            code = code.replace(" ...", "")
            while "[" in code:
                code = re.sub(r"\s*\[[^\[\]]*\]", "", code)
            if code.startswith("advref "):
                base = " ".join(code.split()[:3] if "M.npz" in code else code.split()[:2])
                forms.append(code.strip())
            elif code.startswith("--") and base:
                forms.append(f"{base} {code}".strip())
    return forms


def test_the_table_is_read_whole():
    assert readme_forms() == [
        "advref data info", "advref data fetch", "advref train MODEL --out M.npz",
        "advref gradcheck", "advref attack M.npz --eps .25",
        "advref attack M.npz --method iterative", "advref attack M.npz --method r+fgsm",
        "advref minimal M.npz", "advref rubbish M.npz", "advref transfer SRC.npz TGT.npz",
        "advref show M.npz --out E.png", "advref reproduce", "advref bench",
        "advref vectors --out DIR",
        "advref vectors --check DIR --impl module:object"]


@pytest.mark.mnist
def test_every_readme_command_runs_as_written(mnist_dir, tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT), ADVREF_DATA=str(mnist_dir))
    fill = {"MODEL": "softmax", "M.npz": "m.npz", "SRC.npz": "m.npz", "TGT.npz": "m.npz",
            "DIR": "vectors", "module:object": "advref.tools.conformance:ADVREF"}
    ran = []
    for form in readme_forms():
        if form in NOT_RUN:
            continue
        argv = [fill.get(word, word) for word in form.split()[1:]]
        proc = subprocess.run([sys.executable, "-m", "advref", *argv], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=900)
        assert "Traceback" not in proc.stderr, form
        if form == "advref minimal M.npz" and not HAVE_SCIPY:
            # without SciPy the L-BFGS-B command says so in one sentence, exit 2
            assert proc.returncode == 2 and proc.stderr.strip() == (
                "advref minimal: error: advref minimal needs SciPy (its L-BFGS-B "
                "optimizer), which is not installed here: pip install scipy"), proc.stderr
        else:
            assert proc.returncode == 0, (form, proc.stderr[-1500:])
        ran.append(form)
    assert len(ran) == len(readme_forms()) - len(NOT_RUN)
