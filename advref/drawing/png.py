"""PNG files from NumPy arrays, with the standard library only (zlib, struct).

A PNG (ISO/IEC 15948) is an 8-byte signature and a list of chunks, each
`length (4 bytes, big-endian) | type (4 ASCII bytes) | data | CRC-32 of type
and data`. advref writes the three chunks a truecolour image needs:
- IHDR: width, height, bit depth 8, colour type 2 (RGB), compression 0,
  filter method 0, interlace 0;
- IDAT: the zlib stream of the scanlines, each prefixed by its filter type
  byte, here 0 (None: the row's bytes as they are);
- IEND: empty.
"""

from __future__ import annotations

import os
import struct
import zlib
from typing import TYPE_CHECKING

import numpy as np

from advref.data_loaders.files import atomic_write_bytes, check_writable_target

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

SIGNATURE = b"\x89PNG\r\n\x1a\n"


def chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def encode_png(rgb: ArrayLike) -> bytes:
    """The PNG file of an (height, width, 3) uint8 array."""
    rgb = np.asarray(rgb)
    if rgb.dtype != np.uint8:
        raise TypeError(f"rgb must be uint8, got dtype {rgb.dtype} instead.")
    if rgb.ndim != 3 or rgb.shape[2] != 3 or 0 in rgb.shape:
        raise ValueError(f"rgb must have shape (height, width, 3) with height and width "
                         f">= 1, got shape {rgb.shape} instead.")
    height, width, _ = rgb.shape
    rows = np.zeros((height, 1 + 3 * width), np.uint8)      # column 0: filter type 0
    rows[:, 1:] = rgb.reshape(height, 3 * width)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (SIGNATURE + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(rows.tobytes(), 9)) + chunk(b"IEND", b""))


def write_png(path: str | os.PathLike[str], rgb: ArrayLike, what: str = "path") -> None:
    """Write `rgb` as a PNG at `path`, atomically; the target is checked first."""
    check_writable_target(path, what)
    atomic_write_bytes(path, encode_png(rgb))
