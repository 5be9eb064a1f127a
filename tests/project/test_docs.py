"""Every ```python block of README.md and docs/*.md runs as written, the blocks of
one file in order in one namespace, as a reader follows them."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def blocks(path):
    return re.findall(r"```python\n(.*?)```", path.read_text(), re.S)


def test_the_readme_and_the_derivations_have_runnable_blocks():
    assert blocks(ROOT / "README.md")
    assert len(blocks(ROOT / "docs" / "derivations.md")) >= 9


@pytest.mark.parametrize("path", [p for p in FILES if blocks(p)], ids=lambda p: p.name)
def test_blocks_run_in_order(path):
    namespace = {"__name__": path.stem}
    for index, code in enumerate(blocks(path)):
        exec(compile(code, f"{path.name} block {index}", "exec"), namespace)
