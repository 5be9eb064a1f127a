"""The four MNIST files: their names, digests, and where advref looks for them.

Where `find_mnist` looks, in order: the `data_dir` argument, the `ADVREF_DATA`
environment variable, the user cache (`$XDG_CACHE_HOME/advref/mnist`, by
default `~/.cache/advref/mnist`). The first folder holding all four standard
files (gzipped or raw) is used.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from .idx import DataError, read_bytes

N_FEATURES = 784
N_CLASSES = 10

# SHA-256 of the decompressed IDX content (md5 of the same bytes match the
# widely published MNIST values).
SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
FILES = tuple(SHA256)
# the exact decompressed sizes: a file is refused as soon as it would exceed its own
SIZES = {"train-images-idx3-ubyte": 16 + 60_000 * 784, "train-labels-idx1-ubyte": 8 + 60_000,
         "t10k-images-idx3-ubyte": 16 + 10_000 * 784, "t10k-labels-idx1-ubyte": 8 + 10_000}
FETCH_COMMAND = "advref data fetch"



def cache_dir() -> Path:
    """The user cache folder for MNIST: $XDG_CACHE_HOME/advref/mnist (by default
    ~/.cache/advref/mnist). A ValueError says so where neither XDG_CACHE_HOME nor a
    home folder can be found (no HOME, and a uid without a passwd entry)."""
    base: str | Path | None = os.environ.get("XDG_CACHE_HOME")
    if not base:
        try:
            base = Path.home() / ".cache"
        except RuntimeError:
            raise ValueError("the user cache folder needs XDG_CACHE_HOME or a home folder, got "
                             "neither (no HOME, and no passwd entry for this uid) instead: "
                             "set ADVREF_DATA, or pass the folder explicitly.") from None
    return Path(base) / "advref" / "mnist"


def candidate_sources(data_dir: str | os.PathLike[str] | None = None) -> list[tuple[str, Path]]:
    """(where it comes from, folder) for each folder `load_mnist` looks in, in order:
    the argument, $ADVREF_DATA, the user cache (left out where there is no home)."""
    out = []
    if data_dir is not None:
        out.append(("argument", Path(data_dir)))
    if os.environ.get("ADVREF_DATA"):
        out.append(("ADVREF_DATA", Path(os.environ["ADVREF_DATA"])))
    try:
        out.append(("user cache", cache_dir()))
    except ValueError:
        pass
    return out


def candidate_dirs(data_dir: str | os.PathLike[str] | None = None) -> list[Path]:
    """The folders `load_mnist` looks in, in order."""
    return [folder for _, folder in candidate_sources(data_dir)]


def file_in(folder: Path, name: str) -> Path | None:
    """The path of MNIST file `name` in `folder`, gzipped or raw, if present."""
    for candidate in (folder / f"{name}.gz", folder / name):
        if candidate.is_file():
            return candidate
    return None


def present_file_in(folder: Path, name: str) -> Path:
    """file_in for a folder find_mnist found complete: a DataError, not a crash, if the
    file went away since."""
    path = file_in(folder, name)
    if path is None:
        raise DataError(f"{folder}: {name}(.gz) is missing (it was there when the folder "
                        "was found)")
    return path


def find_mnist(data_dir: str | os.PathLike[str] | None = None) -> Path | None:
    """The first candidate folder that holds all four files, or None."""
    for folder in candidate_dirs(data_dir):
        if all(file_in(folder, name) for name in FILES):
            return folder
    return None


def verified_bytes(path: Path, name: str) -> bytes:
    """Decompressed content of `path`, checked against the digest of `name`."""
    data = read_bytes(path, max_bytes=SIZES[name])
    digest = hashlib.sha256(data).hexdigest()
    if digest != SHA256[name]:
        raise DataError(f"{path}: SHA-256 of the decompressed content does not match "
                        f"{name}: expected {SHA256[name]}, got {digest}")
    return data
