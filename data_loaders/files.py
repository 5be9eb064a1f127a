"""Safe file handling shared by data, model and checkpoint files.

- `atomic_write_bytes` writes through a temporary file in the same folder and
  os.replace, so a reader never sees a half-written file; the temporary file is
  removed on any exception (SIGTERM included, once Python turns it into one),
  and a stale one left by SIGKILL is removed by the next save of the same path.
- `check_regular_file` refuses FIFOs, devices and directories before they are
  opened (opening a FIFO for reading would block).
- `check_writable_target` fails before any work when a path cannot be written,
  naming that path rather than a temporary file.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import BinaryIO

PART_SUFFIX = ".part"


def _stale_parts(path: Path):
    return path.parent.glob(f".{path.name}.*{PART_SUFFIX}")


def atomic_write_bytes(path: str | os.PathLike[str], content: bytes) -> None:
    """Write `content` to `path` through a temporary file and os.replace."""
    path = Path(path)
    for stale in _stale_parts(path):
        stale.unlink(missing_ok=True)
    tmp = part_name(path)
    try:
        with open_new(tmp) as f:
            f.write(content)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~current_umask())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def part_name(path: Path, suffix: str = PART_SUFFIX) -> Path:
    """A fresh temporary name beside `path`, chosen before the file exists.

    The name is known before the file is created, so a caller that creates it
    inside its try block can always remove it: tempfile.mkstemp only returns
    the name after creating the file, and a signal landing in between would
    leave the file behind.
    """
    return path.parent / f".{path.name}.{secrets.token_hex(8)}{suffix}"


def open_new(tmp: Path) -> BinaryIO:
    """Create `tmp` for writing in binary, readable by the owner only; fails if it exists."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    return os.fdopen(os.open(tmp, flags, 0o600), "wb")


def current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def check_regular_file(path: str | os.PathLike[str], what: str = "file") -> Path:
    """`path` as a Path if it names an existing regular file; else a clear error."""
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise FileNotFoundError(f"{what} {path}: file not found") from None
    except OSError as err:
        raise ValueError(f"{what} {path}: cannot be read ({err.strerror})") from None
    if not stat.S_ISREG(mode):
        kind = ("a directory" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode)
                else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a file")
        raise ValueError(f"{what} must be a regular file, got {path} ({kind}) instead.")
    return path


def check_writable_target(path: str | os.PathLike[str], what: str = "--out") -> Path:
    """Fail now, naming `path`, if a file could not later be written there."""
    text = os.fspath(path)
    if not text:
        raise ValueError(f"{what} must name a file, got an empty string instead.")
    path = Path(text)
    if path.is_dir():
        raise ValueError(f"{what} must name a file, got {path}, a directory, instead.")
    folder = path.parent
    if not folder.is_dir():
        raise ValueError(f"{what} {path}: its folder {folder} does not exist.")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ValueError(f"{what} {path}: its folder {folder} is not writable.")
    if path.exists() and not os.access(path, os.W_OK) and not os.access(folder, os.W_OK):
        raise ValueError(f"{what} {path}: the file is not writable.")
    return path
