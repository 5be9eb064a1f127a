"""The public API is typed: every public function and method of the public
packages has annotations on every parameter and its return (mypy, run by CI on the
installed package, checks them against the code), and the package says so with
py.typed."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PUBLIC = ["advref/__init__.py", "advref/datasets.py", "advref/attacks", "advref/analysis",
          "advref/drawing", "advref/training", "models", "data_loaders"]


def public_functions(path):
    """(qualified name, node) of every function not under a private name."""
    tree = ast.parse(path.read_text())
    found = []

    def visit(node, prefix):
        for n in ast.iter_child_nodes(node):
            if isinstance(n, ast.ClassDef) and not n.name.startswith("_"):
                visit(n, f"{prefix}{n.name}.")
            elif isinstance(n, ast.FunctionDef) and (not n.name.startswith("_")
                                                     or n.name == "__init__"):
                found.append((f"{prefix}{n.name}", n))
    visit(tree, "")
    return found


def unannotated(node):
    a = node.args
    params = [p for p in a.posonlyargs + a.args + a.kwonlyargs + [a.vararg, a.kwarg]
              if p is not None and p.arg not in ("self", "cls")]
    missing = [p.arg for p in params if p.annotation is None]
    if node.returns is None:
        missing.append("return")
    return missing


def files():
    for entry in PUBLIC:
        path = ROOT / entry
        yield from ([path] if path.suffix == ".py" else sorted(path.rglob("*.py")))


@pytest.mark.parametrize("path", list(files()), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_public_function_is_annotated(path):
    gaps = {name: missing for name, node in public_functions(path)
            if (missing := unannotated(node))}
    assert not gaps, f"{path.relative_to(ROOT)}: unannotated {gaps}"


def test_the_check_sees_a_missing_annotation():
    tree = ast.parse("def f(x: int, y) -> int: ...\ndef g(x: int): ...\n"
                     "def h(*a: int, **k: str) -> None: ...")
    f, g, h = tree.body
    assert unannotated(f) == ["y"] and unannotated(g) == ["return"] and unannotated(h) == []


def test_the_package_is_marked_typed_and_ships_the_marker():
    assert (ROOT / "advref" / "py.typed").is_file()
    cfg = (ROOT / "setup.cfg").read_text()
    assert "advref = py.typed" in cfg.split("[options.package_data]")[1].split("[")[0]
