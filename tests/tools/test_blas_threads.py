"""SciPy's BLAS is single-threaded inside the block and restored after it; NumPy's BLAS
thread count is read as the process was given it, and every trained model records it."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from advref._blas_threads import (
    scipy_blas_single_thread,
    scipy_openblas_threads,
    wheel_library_folders,
)

scipy = pytest.importorskip("scipy", reason="these tests drive SciPy's BLAS and L-BFGS-B")

ROOT = Path(__file__).resolve().parents[2]


def test_the_block_sets_one_thread_and_restores_the_count():
    threads = scipy_openblas_threads()
    bundled = [p for folder in wheel_library_folders(Path(scipy.__file__).parent)
               for p in folder.glob("*openblas*")]
    if threads is None:
        # Only a SciPy without a bundled OpenBLAS (conda, Accelerate) may miss it.
        assert not bundled, f"SciPy bundles {bundled} but its thread count was not found"
        pytest.skip("this SciPy bundles no OpenBLAS, so there is no thread count to set: "
                    "the block does nothing here")
    get, set_ = threads
    before = get()
    with scipy_blas_single_thread():
        assert get() == 1
    assert get() == before
    with pytest.raises(RuntimeError), scipy_blas_single_thread():
        raise RuntimeError("the count is restored on errors too")
    assert get() == before


def _in_a_process(code, threads, tmp_path):
    """Run python code in a fresh process whose OpenBLAS starts with `threads` threads."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": str(threads), "PYTHONPATH": str(ROOT)}
    env.pop("ADVREF_DATA", None)
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def numpy_bundles_openblas():
    return any(p for folder in wheel_library_folders(Path(np.__file__).parent)
               for p in folder.glob("*openblas*"))


@pytest.mark.parametrize("threads", [1, 2])
def test_numpy_blas_threads_reads_the_count_the_process_was_given(threads, tmp_path):
    got = _in_a_process("from advref._blas_threads import numpy_blas_threads;"
                        "print(numpy_blas_threads())", threads, tmp_path)
    if not numpy_bundles_openblas():
        assert got == "None"                 # nothing to read: recorded as unknown
        return
    assert got == str(threads)


@pytest.mark.parametrize("threads", [1, 2])
def test_each_trained_model_records_the_blas_thread_count(threads, tmp_path):
    """advref reproduce and advref train save the count their process trained with."""
    code = ("from advref import models; from advref.cli.parser import main;"
            "from pathlib import Path;"
            "assert main(['reproduce', '--profile', 'sample', '--out', 'r', '--train',"
            " 'softmax']) == 0;"
            "assert main(['train', 'softmax', '--data', 'sample', '--epochs', '2',"
            " '--out', 't.npz']) == 0;"
            "f = next(Path('r/models').glob('softmax-*.npz'));"
            "print(models.load(f, with_extra=True)[1]['blas_threads'],"
            " models.load('t.npz', with_extra=True)[1]['blas_threads'])")
    want = str(threads) if numpy_bundles_openblas() else "None"
    assert _in_a_process(code, threads, tmp_path).splitlines()[-1] == f"{want} {want}"


def test_numpy_blas_threads_reads_numpys_pool_not_scipys(tmp_path):
    """NumPy and SciPy bundle separate OpenBLAS pools: setting SciPy's to one thread
    inside scipy_blas_single_thread leaves NumPy's count (2) as it was."""
    code = ("from advref._blas_threads import numpy_blas_threads, scipy_blas_single_thread;"
            "\nwith scipy_blas_single_thread(): print(numpy_blas_threads())")
    got = _in_a_process(code, 2, tmp_path)
    assert got == ("2" if numpy_bundles_openblas() else "None")
