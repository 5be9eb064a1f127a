"""advref.drawing.png against the PNG specification, decoded here from the bytes."""

import struct
import zlib

import numpy as np
import pytest

from advref.drawing.png import encode_png, write_png


def decode(data):
    """(rgb, chunk types) of an 8-bit RGB, non-interlaced PNG with filter-0 rows,
    read from the specification: signature, then length | type | data | CRC."""
    assert data[:8] == bytes([137, 80, 78, 71, 13, 10, 26, 10])
    pos, kinds, idat, header = 8, [], b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert crc == zlib.crc32(kind + body), kind
        kinds.append(kind)
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, colour, compression, filtering, interlace = header
    assert (depth, colour, compression, filtering, interlace) == (8, 2, 0, 0, 0)
    raw = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(height, 1 + 3 * width)
    assert np.all(raw[:, 0] == 0)                      # every row: filter type None
    return raw[:, 1:].reshape(height, width, 3), kinds


def test_a_picture_survives_encoding_pixel_for_pixel():
    rgb = np.random.default_rng(0).integers(0, 256, (7, 11, 3), dtype=np.uint8)
    got, kinds = decode(encode_png(rgb))
    assert kinds == [b"IHDR", b"IDAT", b"IEND"]
    assert np.array_equal(got, rgb)


def test_the_end_chunk_is_the_well_known_twelve_bytes():
    """Every PNG ends in the same IEND chunk: empty, with CRC-32 ae 42 60 82."""
    assert encode_png(np.zeros((1, 1, 3), np.uint8))[-12:] == \
        b"\x00\x00\x00\x00IEND\xae\x42\x60\x82"


def test_one_red_pixel_is_laid_out_as_the_specification_says():
    data = encode_png(np.array([[[255, 0, 0]]], np.uint8))
    assert data[8:16] == b"\x00\x00\x00\x0dIHDR"       # 13 bytes of header
    assert data[16:29] == bytes([0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0])
    (length,) = struct.unpack(">I", data[33:37])
    assert data[37:41] == b"IDAT"
    assert zlib.decompress(data[41:41 + length]) == bytes([0, 255, 0, 0])


@pytest.mark.parametrize("bad,error,words", [
    (np.zeros((2, 2, 3)), TypeError, "uint8, got dtype float64"),
    (np.zeros((2, 2), np.uint8), ValueError, "got shape (2, 2)"),
    (np.zeros((2, 2, 4), np.uint8), ValueError, "got shape (2, 2, 4)"),
    (np.zeros((0, 2, 3), np.uint8), ValueError, "got shape (0, 2, 3)"),
])
def test_anything_but_an_rgb_uint8_array_is_refused_by_name(bad, error, words):
    with pytest.raises(error, match="rgb must") as info:
        encode_png(bad)
    assert words in str(info.value)


def test_write_png_is_atomic_and_checks_its_target_first(tmp_path):
    rgb = np.full((3, 2, 3), 7, np.uint8)
    write_png(tmp_path / "a.png", rgb)
    assert np.array_equal(decode((tmp_path / "a.png").read_bytes())[0], rgb)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png"]
    with pytest.raises(ValueError, match="--out .*does not exist"):
        write_png(tmp_path / "no" / "b.png", rgb, "--out")
    with pytest.raises(ValueError, match="^path .*does not exist"):
        write_png(tmp_path / "no" / "b.png", rgb)
