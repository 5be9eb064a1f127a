"""Resumable chunks of a long measurement (advref.reproduce.chunks)."""

import numpy as np
import pytest

from advref.reproduce.chunks import ChunkError, in_chunks, measurement_key


def squares(calls):
    def compute(start, stop):
        calls.append((start, stop))
        return {"v": np.arange(start, stop) ** 2, "tag": np.array([f"{start}"])}
    return compute


def test_chunks_are_computed_once_and_joined_in_order(tmp_path):
    key = measurement_key({"model": "abc", "n": 7})
    calls = []
    got = in_chunks(tmp_path, "t", key, 7, 3, squares(calls))
    assert calls == [(0, 3), (3, 6), (6, 7)]
    assert got["v"].tolist() == [0, 1, 4, 9, 16, 25, 36]
    assert got["tag"].tolist() == ["0", "3", "6"]
    files = sorted(p.name for p in (tmp_path / "chunks").iterdir())
    assert files == [f"t-{key[:12]}-000000-000003.npz", f"t-{key[:12]}-000003-000006.npz",
                     f"t-{key[:12]}-000006-000007.npz"]       # no temporary file left
    again = []
    assert in_chunks(tmp_path, "t", key, 7, 3, squares(again))["v"].tolist() == \
        got["v"].tolist()
    assert again == []


def test_a_run_killed_after_one_chunk_resumes_from_it(tmp_path):
    key = measurement_key({"x": 1})

    def dies_on_second(start, stop):
        if start:
            raise KeyboardInterrupt
        return {"v": np.arange(start, stop)}

    with pytest.raises(KeyboardInterrupt):
        in_chunks(tmp_path, "t", key, 4, 2, dies_on_second)
    calls = []
    got = in_chunks(tmp_path, "t", key, 4, 2, lambda a, b: calls.append((a, b)) or
                    {"v": np.arange(a, b)})
    assert calls == [(2, 4)] and got["v"].tolist() == [0, 1, 2, 3]


def test_a_chunk_of_another_measurement_or_damaged_is_refused(tmp_path):
    key, other = measurement_key({"a": 1}), measurement_key({"a": 2})
    in_chunks(tmp_path, "t", key, 2, 2, squares([]))
    path = next((tmp_path / "chunks").iterdir())
    swapped = path.with_name(path.name.replace(key[:12], other[:12]))
    path.rename(swapped)
    with pytest.raises(ChunkError, match="another measurement"):
        in_chunks(tmp_path, "t", other, 2, 2, squares([]))
    swapped.write_bytes(b"not a zip file")
    with pytest.raises(ChunkError, match="cannot be read"):
        in_chunks(tmp_path, "t", other, 2, 2, squares([]))


def test_keys_depend_on_every_field():
    assert measurement_key({"a": 1, "b": [1, 2]}) == measurement_key({"b": [1, 2], "a": 1})
    assert measurement_key({"a": 1, "b": [1, 2]}) != measurement_key({"a": 1, "b": [2, 1]})
