"""Every dotted name of advref's own code written in the code and the docs names
something that exists: a module, or an attribute reached from one.

`models.X` and `data_loaders.X` name the folders' modules, the subpackages
advref.models and advref.data_loaders. Mutant names (docs/testing.md) are the
mutation tool's, not importable names.
"""

import importlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOTTED = re.compile(r"(?<![\w./-])((?:advref|models|data_loaders)(?:\.[A-Za-z_]\w*)+)(?![\w-])")
SOURCES = [*ROOT.glob("*.md"), *ROOT.glob("docs/*.md"), *ROOT.glob("benchmarks/*.py"),
           *ROOT.glob("scripts/*.py"),
           *(p for folder in ("advref", "models", "data_loaders", "tests")
             for p in (ROOT / folder).rglob("*.py")
             if p.name != "test_stale_names.py")]      # this file names stale examples


def resolves(dotted):
    parts = (dotted if dotted.startswith("advref") else f"advref.{dotted}").split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attribute in parts[i:]:
            if not hasattr(obj, attribute):
                return False
            obj = getattr(obj, attribute)
        return True
    return False


def dotted_names(text):
    for match in DOTTED.finditer(text):
        name = match.group(1)
        if "_mutmut_" in name or "\u01c1" in name:
            continue
        yield name


def test_the_scanner_finds_names_and_tells_stale_from_live():
    found = list(dotted_names("see advref.recipes and models.feedforward, not "
                              "advref.egg-info or x_advref.y; advref.attacks.noise."))
    assert found == ["advref.recipes", "models.feedforward", "advref.attacks.noise"]
    assert [resolves(n) for n in found] == [False, True, True]
    assert resolves("advref.training.sgd.train") and not resolves("advref.train.train")


def test_no_stale_dotted_name_remains():
    stale = [f"{path.relative_to(ROOT)}:{n}: {name}"
             for path in SOURCES for n, line in enumerate(path.read_text().splitlines(), 1)
             for name in dotted_names(line) if not resolves(name)]
    assert stale == []
