"""The structure of the code: an acyclic import graph, layered packages, no
function that shadows a module, every module importable on its own."""

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# folder -> import name: models/ and data_loaders/ are the subpackages advref.models
# and advref.data_loaders (advref/__init__.py, setup.cfg)
PACKAGES = {"advref": "advref", "models": "advref.models",
            "data_loaders": "advref.data_loaders"}


def module_files():
    out = {}
    for folder, package in PACKAGES.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = [package, *path.relative_to(ROOT / folder).with_suffix("").parts]
            if parts[-1] == "__init__":
                parts = parts[:-1]
            if parts[-1] == "__main__":        # a script: importing it runs the CLI
                continue
            out[".".join(parts)] = path
    return out


def layer(name):
    """The package layer of a module: models, data_loaders, or advref (the rest)."""
    for folder, package in PACKAGES.items():
        if folder != "advref" and (name == package or name.startswith(package + ".")):
            return folder
    return "advref"


MODULES = module_files()


def imports_of(name, path):
    """Every project module `name` imports, at module level or inside functions."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base
                       for a in node.names]
        else:
            continue
        for t in targets:
            while t and t not in MODULES:
                t = t.rpartition(".")[0]
            if t and t != name:
                found.add(t)
    return found


GRAPH = {name: imports_of(name, path) for name, path in MODULES.items()}


def find_cycle(graph):
    state, stack = {}, []

    def visit(n):
        state[n] = "open"
        stack.append(n)
        for m in sorted(graph[n]):
            if state.get(m) == "open":
                return stack[stack.index(m):] + [m]
            if m not in state:
                cycle = visit(m)
                if cycle:
                    return cycle
        state[n] = "done"
        stack.pop()
        return None

    for n in sorted(graph):
        if n not in state:
            cycle = visit(n)
            if cycle:
                return cycle
    return None


def test_the_graph_parser_sees_real_edges():
    assert "advref.training.objectives" in GRAPH["advref.training.sgd"]
    assert "advref.data_loaders.mnist_files" in GRAPH["advref.data_loaders.download"]
    assert "advref.data_loaders.files" in GRAPH["advref.models.persist"]
    assert [layer(n) for n in ("advref.models.base", "advref.data_loaders", "advref.cli")] \
        == ["models", "data_loaders", "advref"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_import_graph_is_acyclic():
    assert find_cycle(GRAPH) is None


@pytest.mark.parametrize("lower, upper", [("models", "advref"), ("data_loaders", "advref"),
                                          ("data_loaders", "models")])
def test_lower_layers_never_import_upper_ones(lower, upper):
    offenders = {n: sorted(m for m in deps if layer(m) == upper)
                 for n, deps in GRAPH.items() if layer(n) == lower}
    assert {n: d for n, d in offenders.items() if d} == {}


def test_no_exported_name_shadows_a_module():
    for name, path in MODULES.items():
        if path.name != "__init__.py":
            continue
        package = importlib.import_module(name)
        for sub in (p.stem for p in path.parent.glob("*.py")
                    if p.stem not in ("__init__", "__main__")):
            module = importlib.import_module(f"{name}.{sub}")
            value = getattr(package, sub, module)
            assert value is module, f"{name}.{sub} is {value!r}, not the module"


def test_every_module_imports_in_a_fresh_interpreter():
    failures = {}
    for name in MODULES:
        proc = subprocess.run([sys.executable, "-c", f"import {name}"], cwd=ROOT,
                              capture_output=True, text=True)
        if proc.returncode:
            failures[name] = proc.stderr.strip().splitlines()[-1]
    assert failures == {}


def test_only_the_reproduce_command_imports_reproduce():
    """`advref train` and the other commands train through advref.fitting, the path
    the reproduce cache uses too; only `advref reproduce` needs advref.reproduce."""
    offenders = {n: sorted(m for m in deps if m.startswith("advref.reproduce"))
                 for n, deps in GRAPH.items()
                 if n.startswith("advref.cli") and n != "advref.cli.reproduce"}
    assert {n: d for n, d in offenders.items() if d} == {}


PROTOCOL_MODULES = {"advref.models.outputs", "advref.models.validation", "advref.models.base",
                    "advref.models.protocol",        # the protocol as types
                    "advref.models.file_checks"}     # the protocol and file safeguards


def test_training_depends_on_the_model_protocol_only():
    """advref.training names no concrete model class: the recipes that build them live
    in advref.fitting, beside the command line and the experiments."""
    for name, deps in GRAPH.items():
        if name.startswith("advref.training"):
            concrete = {m for m in deps if layer(m) == "models"} - PROTOCOL_MODULES
            assert concrete == set(), name
    assert "advref.fitting.recipes" in GRAPH["advref.cli.train"]
    assert "advref.fitting.fit" in GRAPH["advref.reproduce.cache"]
    assert "advref.fitting.fit" in GRAPH["advref.cli.train"]


def test_import_advref_loads_no_network_module():
    """urllib.request (with http, ssl and email) is imported by a download alone."""
    code = ("import sys, advref, advref.cli.parser, advref.data_loaders; "
            "print(sorted(m for m in ('urllib.request', 'ssl', 'http.client', 'email') "
            "if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, check=True)
    assert proc.stdout.strip() == "[]"
