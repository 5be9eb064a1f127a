"""Fetch the MNIST files from public mirrors into the user cache, verified.

Each file is tried on every mirror in turn. A download goes to a temporary file
beside its destination, its decompressed content is checked against the known
SHA-256, and only then is it renamed into place (os.replace). A failed, partial
or corrupt download leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

from .console import STDERR
from .files import open_new, part_name
from .idx import DataError, read_bytes
from .mnist_files import FILES, SHA256, cache_dir, file_in

if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

DEFAULT_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)


def fetch_one(url: str, dest: Path, name: str, timeout: float) -> None:
    """Download `url` to `dest` if its content verifies as MNIST file `name`."""
    import urllib.request  # here, not at import: it loads http, ssl and email (~19% of
                             # `import advref`), which only a download needs
    tmp = part_name(dest)
    try:
        with open_new(tmp) as out, urllib.request.urlopen(url, timeout=timeout) as resp:
            while chunk := resp.read(1 << 20):
                out.write(chunk)
        digest = hashlib.sha256(read_bytes(tmp)).hexdigest()
        if digest != SHA256[name]:
            raise DataError(f"{url}: SHA-256 of the decompressed content does not match "
                            f"{name}: expected {SHA256[name]}, got {digest}")
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def download_mnist(dest_dir: str | os.PathLike[str] | None = None, *,
                   mirrors: Sequence[str] = DEFAULT_MIRRORS, timeout: float = 60.0,
                   log: Any = STDERR) -> Path:
    """Fetch whichever of the four files are missing from `dest_dir` (default: cache).

    Returns the folder. Raises DataError listing every mirror's failure when a
    file cannot be had from any of them.
    """
    dest_dir = Path(dest_dir) if dest_dir is not None else cache_dir()
    dest_dir.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        if file_in(dest_dir, name):
            continue
        dest = dest_dir / f"{name}.gz"
        failures = []
        for mirror in mirrors:
            url = mirror.rstrip("/") + f"/{name}.gz"
            if log:
                print(f"fetching {url}", file=log)
            try:
                fetch_one(url, dest, name, timeout)
                break
            except (OSError, DataError) as err:
                failures.append(f"  - {url}: {err}")
        else:
            raise DataError(f"could not fetch {name}.gz from any mirror:\n" + "\n".join(failures))
    return dest_dir
