import gzip
import http.server
import shutil
import threading
from functools import partial

import numpy as np
import pytest

from advref.data_loaders import (
    DataError,
    binary_subset,
    candidate_dirs,
    load_mnist,
    load_mnist_sample,
    train_valid_split,
)
from advref.data_loaders.download import download_mnist
from advref.data_loaders.mnist import FILES
from advref.data_loaders.sample import TEST_PER_CLASS, TRAIN_PER_CLASS


@pytest.mark.mnist
def test_real_mnist_shapes_and_statistics(mnist):
    assert mnist.x_train.shape == (60000, 784) and mnist.x_test.shape == (10000, 784)
    assert mnist.y_train.dtype == np.int64 and mnist.y_test.dtype == np.int64
    assert mnist.x_train.dtype == np.float64
    assert mnist.x_train.min() == 0.0 and mnist.x_train.max() == 1.0
    assert round(float(mnist.x_train.mean()), 4) == 0.1307
    assert round(float(mnist.x_train.std()), 4) == 0.3081
    assert np.bincount(mnist.y_train)[0] == 5923
    assert np.bincount(mnist.y_test)[1] == 1135


@pytest.mark.mnist
def test_dtype_honoured(mnist_dir, mnist):
    d32 = load_mnist(mnist_dir, dtype=np.float32)
    assert d32.x_train.dtype == np.float32 and d32.x_test.dtype == np.float32
    np.testing.assert_allclose(d32.x_test, mnist.x_test, atol=1e-7)
    with pytest.raises(TypeError, match="float dtype"):
        load_mnist(mnist_dir, dtype=np.int32)


@pytest.fixture
def mnist_copy(mnist_dir, tmp_path):
    folder = tmp_path / "copy"
    shutil.copytree(mnist_dir, folder)
    return folder


@pytest.mark.mnist
def test_flipped_byte_fails_verification(mnist_copy, monkeypatch):
    monkeypatch.delenv("ADVREF_DATA", raising=False)
    path = mnist_copy / "t10k-labels-idx1-ubyte.gz"
    raw = bytearray(gzip.decompress(path.read_bytes()))
    raw[100] ^= 1
    path.write_bytes(gzip.compress(bytes(raw)))
    with pytest.raises(DataError, match="SHA-256.*expected ff7bcfd4") as info:
        load_mnist(mnist_copy)
    assert str(path) in str(info.value)


@pytest.mark.mnist
def test_truncated_gzip_fails_cleanly(mnist_copy):
    path = mnist_copy / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(DataError, match="truncated gzip") as info:
        load_mnist(mnist_copy)
    assert str(path) in str(info.value)


def test_lookup_order(tmp_path, monkeypatch):
    monkeypatch.setenv("ADVREF_DATA", str(tmp_path / "env"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    dirs = candidate_dirs(tmp_path / "arg")
    assert dirs == [tmp_path / "arg", tmp_path / "env", tmp_path / "xdg" / "advref" / "mnist"]


def test_not_found_lists_every_place_and_the_fetch_command(tmp_path, monkeypatch):
    monkeypatch.setenv("ADVREF_DATA", str(tmp_path / "env"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    with pytest.raises(DataError) as info:
        load_mnist(tmp_path / "arg")
    text = str(info.value)
    for place in (tmp_path / "arg", tmp_path / "env", tmp_path / "xdg" / "advref" / "mnist"):
        assert str(place) in text
    assert "advref data fetch" in text


@pytest.mark.mnist
def test_env_var_is_used_after_argument(mnist_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("ADVREF_DATA", str(mnist_dir))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    data = load_mnist(tmp_path / "empty")
    assert data.x_test.shape == (10000, 784)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def fake_mirror(mnist_dir, tmp_path):
    """A local HTTP mirror on loopback serving a copy of the MNIST files."""
    root = tmp_path / "mirror"
    shutil.copytree(mnist_dir, root)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             partial(QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.mark.mnist
def test_download_from_local_mirror_verifies(fake_mirror, tmp_path, monkeypatch):
    root, url = fake_mirror
    monkeypatch.delenv("ADVREF_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    dead = "http://127.0.0.1:9/"  # nothing listens on the discard port: the next mirror is tried
    folder = download_mnist(mirrors=(dead, url), log=None)
    assert folder == tmp_path / "xdg" / "advref" / "mnist"
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{n}.gz" for n in FILES)
    data = load_mnist()
    assert data.x_train.shape == (60000, 784)


@pytest.mark.mnist
def test_corrupt_download_leaves_nothing(fake_mirror, tmp_path):
    root, url = fake_mirror
    bad = root / "train-labels-idx1-ubyte.gz"
    raw = bytearray(gzip.decompress(bad.read_bytes()))
    raw[-1] ^= 0xFF
    bad.write_bytes(gzip.compress(bytes(raw)))
    dest = tmp_path / "dest"
    with pytest.raises(DataError, match="could not fetch train-labels-idx1-ubyte.gz") as info:
        download_mnist(dest, mirrors=(url,), log=None)
    assert "SHA-256" in str(info.value)
    names = sorted(p.name for p in dest.iterdir())
    assert names == ["train-images-idx3-ubyte.gz"]  # fetched before the bad one; no .part left


def test_sample_is_stratified_and_shaped_like_mnist():
    s = load_mnist_sample(dtype=np.float32)
    assert s.x_train.shape == (2000, 784) and s.x_test.shape == (1000, 784)
    assert s.x_train.dtype == np.float32 and s.y_train.dtype == np.int64
    assert (np.bincount(s.y_train) == TRAIN_PER_CLASS).all()
    assert (np.bincount(s.y_test) == TEST_PER_CLASS).all()
    assert s.x_train.min() >= 0 and s.x_train.max() <= 1


@pytest.mark.mnist
def test_sample_matches_full_files(mnist):
    from advref.data_loaders.sample import load_sample_arrays

    a = load_sample_arrays()
    s = load_mnist_sample()
    np.testing.assert_array_equal(s.x_train, mnist.x_train[a["train_index"]])
    np.testing.assert_array_equal(s.y_test, mnist.y_test[a["test_index"]])


def test_split_and_binary_subset():
    x = np.arange(20.0).reshape(10, 2)
    y = np.array([3, 7, 1, 3, 7, 7, 0, 3, 3, 7])
    xt, yt, xv, yv = train_valid_split(x, y, n_valid=3)
    assert len(xt) == 7 and len(xv) == 3 and (xv == x[7:]).all()
    xb, yb = binary_subset(x, y, (3, 7))
    assert len(xb) == 8 and set(yb) == {0, 1} and yb.dtype == np.int64
    assert (yb == (y[(y == 3) | (y == 7)] == 7)).all()
    with pytest.raises(ValueError, match="n_valid"):
        train_valid_split(x, y, n_valid=10)
