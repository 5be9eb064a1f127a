"""The IDX file format (LeCun's MNIST container), raw or gzip-compressed.

Layout of an IDX file (all integers big-endian):

    bytes 0-1   zero
    byte  2     type code: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
                0x0D float32, 0x0E float64
    byte  3     number of dimensions, ndim
    then        ndim uint32 sizes
    then        prod(sizes) items of the type, big-endian, C order

`read_idx` checks each of these and the exact byte length, so a truncated file
or one with trailing bytes is refused rather than silently reshaped.
"""

from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path

import numpy as np

from .files import atomic_write_bytes, check_regular_file

GZIP_MAGIC = b"\x1f\x8b"

TYPE_CODES: dict[int, np.dtype] = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODE_OF_KIND = {(dt.kind, dt.itemsize): code for code, dt in TYPE_CODES.items()}


class DataError(ValueError):
    """A data file is missing, corrupt, truncated or does not verify."""


# deflate expands at most about 1032:1, so a gzip stream of S bytes cannot hold
# more than this many bytes per compressed byte (plus a little for the header)
MAX_GZIP_RATIO = 1040
CHUNK = 1 << 20


def _raw_bytes(path) -> bytes:
    path = Path(path)
    try:
        check_regular_file(path, "data file")
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except ValueError as err:
        raise DataError(str(err)) from None
    try:
        return path.read_bytes()
    except OSError as err:
        raise DataError(f"{path}: cannot be read ({err.strerror})") from None


def _gunzip(raw, path, limit, why):
    """Decompress chunk by chunk, never holding more than `limit` + CHUNK bytes."""
    out = bytearray()
    stream = zlib.decompressobj(wbits=31)
    data = raw
    try:
        while data:
            out += stream.decompress(data, CHUNK)
            if len(out) > limit:
                raise DataError(f"{path}: decompresses to more than {limit} bytes, {why}")
            data = stream.unconsumed_tail
            if stream.eof and stream.unused_data:      # a further gzip member
                data, stream = stream.unused_data, zlib.decompressobj(wbits=31)
        out += stream.flush()
    except zlib.error as err:
        raise DataError(f"{path}: corrupt or truncated gzip stream ({err})") from None
    if not stream.eof:
        raise DataError(f"{path}: corrupt or truncated gzip stream (it ends early)")
    if len(out) > limit:
        raise DataError(f"{path}: decompresses to more than {limit} bytes, {why}")
    return bytes(out)


def read_bytes(path: str | os.PathLike[str], max_bytes: int | None = None) -> bytes:
    """The decompressed content of `path` (gzip detected by its magic bytes).

    Decompression streams and stops past `max_bytes` (default: what a gzip stream
    of this size could hold), so a small hostile file never costs more memory than
    the bound. A name ending in ``.gz`` whose content is not gzip, and a gzip
    stream that is truncated or corrupt, raise DataError naming the file.
    """
    path = Path(path)
    raw = _raw_bytes(path)
    if raw[:2] == GZIP_MAGIC:
        limit = MAX_GZIP_RATIO * len(raw) + 1024 if max_bytes is None else max_bytes
        why = ("more than the expected size" if max_bytes is not None else
               "more than a gzip stream of this size can hold")
        return _gunzip(raw, path, limit, why)
    if max_bytes is not None and len(raw) > max_bytes:
        raise DataError(f"{path}: {len(raw)} bytes, more than the expected {max_bytes}")
    if path.suffix == ".gz":
        raise DataError(f"{path}: not gzip (the name ends in .gz but the magic bytes are "
                        f"{raw[:2].hex() or 'missing'}, expected 1f8b)")
    return raw


def parse_idx(data: bytes, name: str = "<bytes>") -> np.ndarray:
    """Parse IDX content already in memory; `name` is used in error messages.

    Returns a read-only native-endian array viewing `data` where possible.
    """
    if len(data) < 4:
        raise DataError(f"{name}: truncated: {len(data)} bytes, shorter than the 4-byte IDX magic")
    if data[0] != 0 or data[1] != 0:
        raise DataError(f"{name}: bad magic number {data[:4].hex()}: an IDX file starts with "
                        "two zero bytes")
    code, ndim = data[2], data[3]
    if code not in TYPE_CODES:
        raise DataError(f"{name}: unknown IDX type code 0x{code:02x}; known codes are "
                        + ", ".join(f"0x{c:02x}" for c in TYPE_CODES))
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(f"{name}: truncated header: {ndim} dimensions need {header} bytes, "
                        f"the file has {len(data)}")
    shape = tuple(int(s) for s in np.frombuffer(data, ">u4", count=ndim, offset=4))
    dtype = TYPE_CODES[code]
    expected = header + math.prod(shape) * dtype.itemsize      # Python ints: no overflow
    if len(data) < expected:
        raise DataError(f"{name}: truncated: header declares shape {shape} of {dtype.name} "
                        f"({expected} bytes in all), the file has {len(data)}")
    if len(data) > expected:
        raise DataError(f"{name}: {len(data) - expected} trailing bytes after the data that "
                        f"shape {shape} of {dtype.name} declares")
    array = np.frombuffer(data, dtype, offset=header).reshape(shape)
    if not dtype.isnative and dtype.itemsize > 1:
        array = array.astype(dtype.newbyteorder("="))
    return array


def _declared_size(head):
    """Header plus data bytes that IDX content starting with `head` declares, or None."""
    if len(head) < 4 or head[2] not in TYPE_CODES or len(head) < 4 + 4 * head[3]:
        return None
    shape = np.frombuffer(head, ">u4", count=head[3], offset=4)
    return 4 + 4 * head[3] + math.prod(int(s) for s in shape) * TYPE_CODES[head[2]].itemsize


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file (raw or gzip) into an array of its declared dtype and shape.

    A gzip file is decompressed only up to the size its IDX header declares, and a
    header declaring more than the stream could hold is refused at once."""
    raw = _raw_bytes(path)
    limit = None
    if raw[:2] == GZIP_MAGIC:
        try:
            head = zlib.decompressobj(wbits=31).decompress(raw, 4 + 4 * 255)
        except zlib.error as err:
            raise DataError(f"{path}: corrupt or truncated gzip stream ({err})") from None
        limit = _declared_size(head)
        if limit is not None and limit > MAX_GZIP_RATIO * len(raw) + 1024:
            raise DataError(f"{path}: its IDX header declares {limit} bytes, more than a gzip "
                            f"stream of {len(raw)} bytes can hold")
    return parse_idx(read_bytes(path, max_bytes=limit), str(path))


def write_idx(path: str | os.PathLike[str], array: np.ndarray) -> None:
    """Write `array` as IDX; gzip-compressed when `path` ends in ``.gz``.

    The write is atomic: a temporary file in the same folder is renamed over
    `path` only once it is complete.
    """
    array = np.asarray(array)
    code = _CODE_OF_KIND.get((array.dtype.kind, array.dtype.itemsize))
    if code is None:
        raise TypeError("IDX stores uint8, int8, int16, int32, float32 or float64, "
                        f"got {array.dtype} instead.")
    if array.ndim > 255:
        raise ValueError(f"IDX stores at most 255 dimensions, got {array.ndim} instead.")
    if any(s >= 2**32 for s in array.shape):
        raise ValueError(f"IDX sizes must fit in 32 bits, got shape {array.shape} instead.")
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
    body = np.ascontiguousarray(array, dtype=TYPE_CODES[code]).tobytes()
    content = header + body
    if str(path).endswith(".gz"):
        content = gzip.compress(content, mtime=0)
    atomic_write_bytes(path, content)
