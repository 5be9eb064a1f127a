import gzip

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from advref.data_loaders import DataError, parse_idx, read_idx, write_idx

DTYPES = ["u1", "i1", ">i2", "<i2", "i4", "f4", "f8"]


@given(dtype=st.sampled_from(DTYPES), compress=st.booleans(), data=st.data())
def test_round_trip(tmp_path_factory, dtype, compress, data):
    arr = data.draw(hnp.arrays(dtype, hnp.array_shapes(min_dims=1, max_dims=4, min_side=0,
                                                        max_side=5)))
    path = tmp_path_factory.mktemp("idx") / ("a.idx.gz" if compress else "a.idx")
    write_idx(path, arr)
    back = read_idx(path)
    assert back.shape == arr.shape
    assert back.dtype.kind == arr.dtype.kind and back.dtype.itemsize == arr.dtype.itemsize
    assert back.dtype.isnative
    np.testing.assert_array_equal(back, arr)


def good_bytes():
    return bytes([0, 0, 0x08, 2, 0, 0, 0, 2, 0, 0, 0, 3]) + bytes(range(6))


@pytest.mark.parametrize("content, message", [
    (b"\x01\x00\x08\x01\x00\x00\x00\x01\x05", "bad magic"),
    (b"\x00\x00\x07\x01\x00\x00\x00\x01\x05", "unknown IDX type code 0x07"),
    (good_bytes()[:-1], "truncated"),
    (good_bytes()[:9], "truncated header"),
    (good_bytes() + b"\x00\x00", "2 trailing bytes"),
    (b"\x00\x00", "truncated"),
])
def test_corrupt_files_name_file_and_problem(tmp_path, content, message):
    path = tmp_path / "bad.idx"
    path.write_bytes(content)
    with pytest.raises(DataError, match=message) as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_good_bytes_parse(tmp_path):
    path = tmp_path / "ok.idx"
    path.write_bytes(good_bytes())
    np.testing.assert_array_equal(read_idx(path), np.arange(6, dtype=np.uint8).reshape(2, 3))


def test_truncated_gzip(tmp_path):
    path = tmp_path / "t.idx.gz"
    path.write_bytes(gzip.compress(good_bytes())[:-9])
    with pytest.raises(DataError, match="corrupt or truncated gzip") as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_gz_name_without_gzip_content(tmp_path):
    path = tmp_path / "plain.idx.gz"
    path.write_bytes(good_bytes())
    with pytest.raises(DataError, match="not gzip"):
        read_idx(path)


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="not found"):
        read_idx(tmp_path / "nope.idx")


def test_write_rejects_unsupported_dtype(tmp_path):
    with pytest.raises(TypeError, match="got int64 instead"):
        write_idx(tmp_path / "x.idx", np.zeros(3, np.int64))


def test_write_is_atomic_and_leaves_no_temp(tmp_path):
    path = tmp_path / "x.idx"
    write_idx(path, np.arange(4, dtype=np.uint8))
    assert [p.name for p in tmp_path.iterdir()] == ["x.idx"]


def test_gzip_bomb_is_refused_within_a_bounded_amount_of_memory(tmp_path):
    import gzip
    import tracemalloc

    from advref.data_loaders.mnist_files import SIZES, verified_bytes

    # 200 MB of zeros compresses to about 200 KB; as train-labels (60,008 bytes
    # expected) it must be refused after at most about one chunk of output
    bomb = tmp_path / "train-labels-idx1-ubyte.gz"
    zeros = bytes(1 << 20)
    with gzip.open(bomb, "wb", compresslevel=9) as f:
        for _ in range(200):
            f.write(zeros)
    tracemalloc.start()
    with pytest.raises(DataError, match="more than 60008 bytes"):
        verified_bytes(bomb, "train-labels-idx1-ubyte")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert SIZES["train-labels-idx1-ubyte"] == 8 + 60_000
    assert peak < bomb.stat().st_size + 3 * (1 << 20), peak      # file + chunks, not 200 MB


def test_idx_header_claiming_more_than_the_stream_can_hold_is_refused(tmp_path):
    import gzip

    path = tmp_path / "big.idx.gz"
    # header: uint8, 2 dims of 65535 x 65535: 12 + 65535**2 = 4,294,836,237 bytes declared
    path.write_bytes(gzip.compress(bytes([0, 0, 8, 2]) + (65535).to_bytes(4, "big") * 2))
    with pytest.raises(DataError, match="declares 4294836237 bytes, more than a gzip stream"):
        read_idx(path)


def test_idx_size_arithmetic_does_not_overflow():
    # four dims of 2^32 - 1 overflow int64 (about 3.4e38 items): Python ints say so
    header = bytes([0, 0, 8, 4]) + (2**32 - 1).to_bytes(4, "big") * 4
    with pytest.raises(DataError, match="truncated"):
        parse_idx(header + b"\0" * 10)
