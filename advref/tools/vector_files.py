"""Reading a conformance vector set as the untrusted input it is.

A vector set comes from elsewhere, so every claim it makes is checked before
anything is read into memory, with the same safeguards as model files
(advref.models.file_checks):

- manifest.json is a JSON object of the right format and version, at most
  MAX_MANIFEST_BYTES, whose `cases` are objects with a unique name, a known
  model kind, a configuration object, a list of quantities, a SHA-256 and a file;
- each case file is a bare file name inside the set's folder (no path, no ..,
  no link out of it), a regular file (not a FIFO or a device), of at most
  MAX_CASE_BYTES, listed once, whose content matches its SHA-256;
- inside it, no member name appears twice, every .npy header's shape matches
  the bytes present, and the configuration's parameter count equals the
  weights stored, so that no model is built larger than the file;
- every reference answer is finite: a NaN reference is the vector set's fault,
  said so with its file and case, never blamed on the implementation checked.
Any failure is a VectorSetError (a ValueError) naming the file, what was
expected and what came.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import re
import stat
import zipfile
from pathlib import Path

import numpy as np

from advref.models import model_classes
from advref.models.file_checks import ModelFileError, config_parameter_count, member_sizes

MAX_MANIFEST_BYTES = 1 << 20
MAX_CASE_BYTES = 64 << 20
HEX64 = re.compile(r"[0-9a-f]{64}")


class VectorSetError(ValueError):
    """A vector set that is malformed, hostile or broken: the set's fault."""


def _regular_file(path, what, limit):
    """The size of `path`, refused unless it is a regular file of at most `limit` bytes
    (checked without following a link, before reading anything)."""
    try:
        info = path.lstat()
    except OSError as err:
        raise VectorSetError(f"{path}: {what} cannot be read ({err.strerror})") from None
    if not stat.S_ISREG(info.st_mode):
        raise VectorSetError(f"{path}: {what} must be a regular file, got a "
                             f"{'link' if stat.S_ISLNK(info.st_mode) else 'special file'} "
                             "instead")
    if info.st_size > limit:
        raise VectorSetError(f"{path}: {what} must be at most {limit:,} bytes, got "
                             f"{info.st_size:,} instead")
    return info.st_size


def read_manifest(folder, fmt, version) -> dict:
    """The manifest of the set in `folder`, every field checked (module docstring)."""
    path = Path(folder) / "manifest.json"
    _regular_file(path, "the manifest", MAX_MANIFEST_BYTES)
    try:
        manifest = json.loads(path.read_bytes())
    except (ValueError, UnicodeDecodeError) as err:
        raise VectorSetError(f"{path}: the manifest must be JSON, got unreadable text "
                             f"({err}) instead") from None
    if not isinstance(manifest, dict):
        raise VectorSetError(f"{path}: the manifest must be a JSON object, got a "
                             f"{type(manifest).__name__} instead")
    if manifest.get("format") != fmt or manifest.get("version") != version:
        raise VectorSetError(f"{path}: the manifest must be format {fmt!r} version {version}, "
                             f"got {manifest.get('format')!r} version "
                             f"{manifest.get('version')!r} instead")
    cases = manifest.get("cases")
    if not isinstance(cases, list) or not cases:
        raise VectorSetError(f"{path}: the manifest's cases must be a non-empty list, got "
                             f"{cases!r:.60} instead")
    names: set[str] = set()
    files: set[str] = set()
    for i, case in enumerate(cases):
        _check_case_entry(path, i, case)
        for seen, key in ((names, "name"), (files, "file")):
            if case[key] in seen:
                raise VectorSetError(f"{path}: case {i} repeats the {key} {case[key]!r}; each "
                                     f"case must have its own")
            seen.add(case[key])
    return manifest


def _check_case_entry(path, i, case):
    if not isinstance(case, dict):
        raise VectorSetError(f"{path}: case {i} must be an object, got "
                             f"{type(case).__name__} instead")
    expected = {"name": str, "kind": str, "config": dict, "file": str, "sha256": str,
                "quantities": list}
    for key, kind in expected.items():
        if not isinstance(case.get(key), kind):
            raise VectorSetError(f"{path}: case {i} needs {key!r} as a {kind.__name__}, got "
                                 f"{case.get(key)!r:.60} instead")
    if case["kind"] not in model_classes():
        raise VectorSetError(f"{path}: case {case['name']!r} has kind {case['kind']!r}; "
                             f"expected one of {', '.join(model_classes())}")
    name = case["file"]
    if name in ("", ".", "..") or Path(name).name != name or "\\" in name:
        raise VectorSetError(f"{path}: case {case['name']!r} must name a file inside the "
                             f"set's folder, got {name!r} instead")
    if not HEX64.fullmatch(case["sha256"]):
        raise VectorSetError(f"{path}: case {case['name']!r} needs a SHA-256 of 64 hex "
                             f"digits, got {case['sha256']!r:.80} instead")
    if not all(isinstance(q, str) for q in case["quantities"]):
        raise VectorSetError(f"{path}: case {case['name']!r} lists quantities that are not "
                             "all strings")


def read_case(folder, case) -> dict:
    """{member: array} of one case file, every claim checked (module docstring)."""
    path = Path(folder) / case["file"]
    _regular_file(path, f"case {case['name']!r}", MAX_CASE_BYTES)
    try:
        with zipfile.ZipFile(path) as zf:
            members = [info.filename for info in zf.infolist()]
    except (zipfile.BadZipFile, OSError) as err:
        raise VectorSetError(f"{path}: case {case['name']!r} must be an .npz file, got an "
                             f"unreadable one ({err}) instead") from None
    if len(set(members)) != len(members):
        twice = sorted({m for m in members if members.count(m) > 1})
        raise VectorSetError(f"{path}: case {case['name']!r} holds the member {twice[0]} "
                             "twice; a case's members must be unique")
    try:
        sizes = member_sizes(path)
        count = config_parameter_count(case["kind"], case["config"], path)
    except ModelFileError as err:
        raise VectorSetError(f"{err} (case {case['name']!r})") from None
    stored = sum(math.prod(shape) for name, (shape, _) in sizes.items()
                 if name.startswith("weights/"))
    if count != stored:
        raise VectorSetError(f"{path}: case {case['name']!r} configures {count:,} parameters, "
                             f"its weights hold {stored:,}")
    content = path.read_bytes()
    if hashlib.sha256(content).hexdigest() != case["sha256"]:
        raise VectorSetError(f"{path}: SHA-256 differs from the manifest's.")
    with np.load(io.BytesIO(content), allow_pickle=False) as npz:
        data = {k: npz[k] for k in npz.files}
    for key in ("x", "y", "target"):
        if key not in data:
            raise VectorSetError(f"{path}: case {case['name']!r} has no {key!r} array")
    for key, value in data.items():
        if key.startswith("ref/") and value.dtype.kind == "f" and not np.isfinite(value).all():
            raise VectorSetError(f"{path}: case {case['name']!r}: the reference {key} holds "
                                 "NaN or inf; the vector set is broken (not the implementation "
                                 "under test)")
    return data
