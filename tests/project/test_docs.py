"""Every ```python block of README.md and docs/*.md runs as written, the blocks of
one file in order in one namespace, as a reader follows them."""

import re
from pathlib import Path

import pytest

from tests.conftest import HAVE_SCIPY

ROOT = Path(__file__).resolve().parents[2]
FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def blocks(path):
    return re.findall(r"```python\n(.*?)```", path.read_text(), re.S)


def test_the_readme_and_the_derivations_have_runnable_blocks():
    assert blocks(ROOT / "README.md")
    assert len(blocks(ROOT / "docs" / "derivations.md")) >= 9


def needs_scipy(code):
    """A block that drives L-BFGS-B: it imports SciPy or calls minimal_perturbation."""
    return ("import scipy" in code or "from scipy" in code
            or re.search(r"(?<!linear_)minimal_perturbation\(", code) is not None)


@pytest.mark.parametrize("path", [p for p in FILES if blocks(p)], ids=lambda p: p.name)
def test_blocks_run_in_order(path):
    """Every block in order; without SciPy the blocks that need it are left out (and
    named in the skip reason), the others still run."""
    namespace = {"__name__": path.stem}
    left_out = []
    for index, code in enumerate(blocks(path)):
        if not HAVE_SCIPY and needs_scipy(code):
            left_out.append(index)
            continue
        exec(compile(code, f"{path.name} block {index}", "exec"), namespace)
    if left_out:
        pytest.skip(f"blocks {left_out} of {path.name} need SciPy, not installed here; "
                    "the others ran")
