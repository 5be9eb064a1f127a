"""Save and load models as .npz files, without pickle.

A model file holds one array per parameter, named "param/<name>", and an array
"__advref__" holding a JSON header:

    {"format": "advref-model", "version": 2, "class": "MaxoutMLP",
     "config": {...constructor arguments...}, "dtype": "float32",
     "params": {"W0": [784, 1200], ...}, "extra": {...caller's metadata...}}

`load` rebuilds the model from the class and config, then checks that the
arrays are exactly the parameters it expects, with their shapes and dtype.
Writes are atomic: an interrupted save never leaves a broken file.

Versions: 2 is written. Version 1 differed only in the maxout column order
(unit-major, column j*pieces + r for piece r of unit j; now piece-major,
r*units + j); `load` reorders a version-1 maxout's hidden layers, so the loaded
model computes exactly the function that was saved.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Literal, overload

import numpy as np

from advref.data_loaders.files import atomic_write_bytes, check_regular_file, check_writable_target

from .file_checks import ModelFileError, config_parameter_count, member_sizes

if TYPE_CHECKING:
    from typing import Any

    from advref.models.base import Model

FORMAT = "advref-model"
VERSION = 2
READABLE_VERSIONS = (1, 2)
HEADER = "__advref__"


def model_classes() -> dict:
    from .linear import LogisticRegression, SoftmaxRegression
    from .maxout import MaxoutMLP
    from .mlp import MLP
    from .rbf import RBFNetwork

    return {c.__name__: c for c in (LogisticRegression, SoftmaxRegression, MaxoutMLP, MLP,
                                    RBFNetwork)}


def save(model: Model, path: str | os.PathLike[str], *, extra: dict | None = None) -> None:
    """Write `model` to `path` (.npz) atomically; `extra` is JSON metadata kept with it."""
    name = type(model).__name__
    if name not in model_classes():
        raise TypeError(f"save stores advref models ({', '.join(model_classes())}), got "
                        f"{name} instead.")
    for k, v in model.params.items():
        if not np.isfinite(v).all():
            raise ValueError(f"model parameter {k} holds NaN or infinite values: refusing to "
                             "save a model that load would refuse (training diverged?).")
    path = check_writable_target(path, "path")
    header = {"format": FORMAT, "version": VERSION, "class": name, "config": model.config(),
              "dtype": model.dtype.name,
              "params": {k: list(v.shape) for k, v in model.params.items()},
              "extra": extra or {}}
    arrays = {f"param/{k}": v for k, v in model.params.items()}
    arrays[HEADER] = np.array(json.dumps(header))
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    atomic_write_bytes(path, buf.getvalue())


def params_digest(model: Model) -> str:
    """SHA-256 of what determines the model's function: class, config, dtype and
    every parameter's name, shape and bytes. Unlike a file hash it ignores the
    metadata saved beside them (timings), so bit-identical models share it."""
    h = hashlib.sha256(json.dumps({"class": type(model).__name__, "config": model.config(),
                                   "dtype": model.dtype.name}, sort_keys=True).encode())
    for name in sorted(model.params):
        a = model.params[name]
        h.update(f"{name}{a.shape}{a.dtype.str}".encode())
        h.update(np.ascontiguousarray(a).data)
    return h.hexdigest()


def read_header(npz: Any, path: Path) -> dict:
    if HEADER not in npz.files:
        raise ModelFileError(f"{path}: not an advref model file (no {HEADER} header)")
    try:
        header = json.loads(str(npz[HEADER][()]))
    except (ValueError, TypeError) as err:
        if "allow_pickle" in str(err):
            raise ModelFileError(f"{path}: its header is an object array (pickled Python "
                                 "objects), which advref never loads") from None
        raise ModelFileError(f"{path}: unreadable model header ({err})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ModelFileError(f"{path}: not an advref model file (format "
                             f"{header.get('format') if isinstance(header, dict) else header!r})")
    if header.get("version") not in READABLE_VERSIONS:
        raise ModelFileError(f"{path}: model file format version {header.get('version')!r} is "
                             f"not supported (this advref reads versions "
                             f"{', '.join(map(str, READABLE_VERSIONS))})")
    return header


def maxout_v1_to_piece_major(arrays: dict[str, np.ndarray], config: dict) -> dict[str, np.ndarray]:
    """Reorder hidden-layer columns from j*pieces + r (version 1) to r*units + j."""
    arrays = dict(arrays)
    units, pieces = config.get("units", []), config.get("pieces", 1)
    for i, u in enumerate(units):
        for name in (f"W{i}", f"b{i}"):
            a = arrays.get(name)
            if a is None or a.shape[-1] != u * pieces:
                continue          # the shape check in load reports the mismatch
            lead = a.shape[:-1]
            arrays[name] = np.ascontiguousarray(
                a.reshape(*lead, u, pieces).swapaxes(-1, -2).reshape(*lead, u * pieces))
    return arrays


@overload
def load(path: str | os.PathLike[str], *, with_extra: Literal[False] = False) -> Model: ...


@overload
def load(path: str | os.PathLike[str], *, with_extra: Literal[True]) -> tuple[Model, dict]: ...


def load(path: str | os.PathLike[str], *,
         with_extra: bool = False) -> Model | tuple[Model, dict]:
    """Read a model saved by `save`. With `with_extra`, return (model, extra)."""
    path = Path(path)
    try:
        check_regular_file(path, "model file")
    except FileNotFoundError:
        raise ModelFileError(f"{path}: file not found") from None
    except ValueError as err:
        raise ModelFileError(str(err)) from None
    if not zipfile.is_zipfile(path):
        raise ModelFileError(f"{path}: not a readable .npz file (not a zip archive)")
    members = member_sizes(path)
    unknown = sorted(m for m in members if m != HEADER and not m.startswith("param/"))
    if HEADER not in members:
        unknown = []                   # not a model file at all: read_header says so
    if unknown:
        raise ModelFileError(f"{path}: holds {len(unknown)} member(s) that no advref model file "
                             f"has ({', '.join(unknown[:3])}{', ...' if len(unknown) > 3 else ''})")
    try:
        with np.load(path, allow_pickle=False) as npz:
            header = read_header(npz, path)
            arrays = {k[len("param/"):]: npz[k] for k in npz.files if k.startswith("param/")}
    except FileNotFoundError:
        raise ModelFileError(f"{path}: file not found") from None
    except (zipfile.BadZipFile, EOFError, OSError) as err:
        raise ModelFileError(f"{path}: not a readable .npz file ({err})") from None
    except ValueError as err:
        if isinstance(err, ModelFileError):
            raise
        if "allow_pickle" in str(err) or "Object arrays" in str(err):
            raise ModelFileError(f"{path}: holds an object array (pickled Python objects), "
                                 "which advref never loads: not a model file it wrote") from None
        raise ModelFileError(f"{path}: not a readable model file ({err})") from None
    if header["version"] == 1 and header.get("class") == "MaxoutMLP":
        arrays = maxout_v1_to_piece_major(arrays, header.get("config", {}))
    classes = model_classes()
    cls = classes.get(header.get("class"))
    if cls is None:
        raise ModelFileError(f"{path}: unknown model class {header.get('class')!r}; known: "
                             f"{', '.join(classes)}")
    count = config_parameter_count(cls.__name__, header.get("config"), path)
    stored = sum(math.prod(shape) for name, (shape, _) in members.items()
                 if name.startswith("param/"))
    if count != stored:
        raise ModelFileError(f"{path}: its configuration implies {count} parameters, the file "
                             f"stores {stored}")
    try:
        model = cls(**header["config"])
    except (TypeError, ValueError, KeyError) as err:
        raise ModelFileError(f"{path}: bad {cls.__name__} configuration ({err})") from None
    expected, found = set(model.params), set(arrays)
    if expected != found:
        raise ModelFileError(f"{path}: {cls.__name__} expects parameters {sorted(expected)}, "
                             f"the file has {sorted(found)}")
    for name, value in arrays.items():
        want = model.params[name]
        if value.shape != want.shape or value.dtype != want.dtype:
            raise ModelFileError(f"{path}: parameter {name} should be {want.shape} "
                                 f"{want.dtype}, the file has {value.shape} {value.dtype}")
        if not np.isfinite(value).all():
            raise ModelFileError(f"{path}: parameter {name} holds NaN or infinite values")
        model.params[name] = value
    extra = header.get("extra", {})
    if not isinstance(extra, dict):
        raise ModelFileError(f"{path}: its metadata (header field extra) must be a JSON "
                             f"object, got {type(extra).__name__} {str(extra)[:40]!r}")
    if not isinstance(extra.get("data", ""), (str, type(None))):
        raise ModelFileError(f"{path}: its metadata field data must be a data name or null, "
                             f"got {type(extra['data']).__name__}")
    return (model, extra) if with_extra else model
