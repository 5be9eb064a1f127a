"""What a model file may claim, checked before anything is allocated.

A hostile .npz can declare more than it holds: an .npy header with a huge
shape, a compressed member that expands a thousandfold, or a configuration
whose model would be gigabytes. `member_sizes` reads only the zip directory and
each member's .npy header and checks them against the bytes really present;
`config_parameter_count` computes, in Python ints and without building
anything, how many parameters a configuration implies, so `load` can compare it
with the arrays the file stores before it constructs the model.
"""

from __future__ import annotations

import math
import struct
import zipfile
from pathlib import Path
from typing import Any

import numpy as np


class ModelFileError(ValueError):
    """A file is not a readable advref model of a known version."""


def _int(config, key, path, default=None):
    value = config.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ModelFileError(f"{path}: configuration {key} must be a positive integer, got "
                             f"{value!r}")
    return value


def _ints(config, key, path):
    values = config.get(key)
    if not isinstance(values, list) or not values:
        raise ModelFileError(f"{path}: configuration {key} must be a list of integers, got "
                             f"{values!r}")
    return [_int({key: v}, key, path) for v in values]


def config_parameter_count(name: str, config: Any, path: Path) -> int:
    """How many parameters a `name` model with `config` has, in Python ints, without
    building it: the configuration is checked against the file before any
    allocation it would cause."""
    if not isinstance(config, dict):
        raise ModelFileError(f"{path}: configuration must be an object, got {config!r}")
    d = _int(config, "n_features", path, 784)
    if name == "LogisticRegression":
        return d + 1
    k = _int(config, "n_classes", path, 10)
    if name == "SoftmaxRegression":
        return d * k + k
    if name == "RBFNetwork":
        return 2 * k * d
    if name == "MaxoutMLP":
        units, pieces = _ints(config, "units", path), _int(config, "pieces", path, 5)
        widths = [d, *units]
        hidden = sum(a * u * pieces + u * pieces for a, u in zip(widths[:-1], units,
                                                               strict=True))
        return hidden + widths[-1] * k + k
    if name == "MLP":
        widths = [d, *_ints(config, "hidden", path), k]
        return sum(a * b + b for a, b in zip(widths[:-1], widths[1:], strict=True))
    raise ModelFileError(f"{path}: unknown model class {name!r}")


MAX_MEMBERS = 4096       # far above any model's or checkpoint's; a zip directory's
                         # entries are counted from its end record before it is parsed


def zip_entry_count(path: Path) -> int:
    """The entry count a zip file's end-of-central-directory record declares, read
    from its last 64 KB without parsing the directory (65535: "see zip64", too many)."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        f.seek(max(0, size - 65_557))
        tail = f.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        raise ModelFileError(f"{path}: not a readable .npz file (no zip directory)")
    return struct.unpack("<H", tail[at + 10:at + 12])[0]


def member_sizes(path: Path) -> dict:
    """{member: (shape, dtype)} from each .npy header, checked against the zip and the
    file's real size before any array is read; at most MAX_MEMBERS members."""
    count = zip_entry_count(path)
    if count > MAX_MEMBERS:
        raise ModelFileError(f"{path}: its zip directory declares {count} members, more than "
                             f"the {MAX_MEMBERS} an advref file may hold")
    size = path.stat().st_size
    out, total = {}, 0
    try:
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                if info.compress_type != zipfile.ZIP_STORED:
                    raise ModelFileError(f"{path}: member {info.filename} is compressed; "
                                         "advref model files store their arrays uncompressed")
                total += info.file_size
                if total > size:
                    raise ModelFileError(f"{path}: its members declare {total} bytes, more "
                                         f"than the file's {size}")
                with zf.open(info) as f:
                    version = np.lib.format.read_magic(f)
                    read = (np.lib.format.read_array_header_1_0 if version == (1, 0) else
                            np.lib.format.read_array_header_2_0)
                    shape, _, dtype = read(f)
                    if dtype.hasobject:
                        raise ModelFileError(f"{path}: member {info.filename} is an object "
                                             "array (pickled Python objects), which advref "
                                             "never loads")
                    declared = math.prod(shape) * dtype.itemsize
                    if declared != info.file_size - f.tell():
                        raise ModelFileError(f"{path}: member {info.filename} declares "
                                             f"{declared} bytes of data, it holds "
                                             f"{info.file_size - f.tell()}")
                out[info.filename[:-4]] = (shape, dtype)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as err:
        if isinstance(err, ModelFileError):
            raise
        raise ModelFileError(f"{path}: not a readable .npz file ({err})") from None
    return out
