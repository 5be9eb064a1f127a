"""Every ```python block of README.md and docs/*.md runs as written."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCKS = [(path, i, code) for path in FILES
          for i, code in enumerate(re.findall(r"```python\n(.*?)```", path.read_text(),
                                              re.S))]


def test_the_readme_has_a_runnable_block():
    assert any(path.name == "README.md" for path, _, _ in BLOCKS)


@pytest.mark.parametrize("path, index, code", BLOCKS,
                         ids=[f"{p.name}-{i}" for p, i, _ in BLOCKS])
def test_block_runs(path, index, code, capsys):
    namespace = {"__name__": f"{path.stem}_block_{index}"}
    exec(compile(code, f"{path.name} block {index}", "exec"), namespace)
