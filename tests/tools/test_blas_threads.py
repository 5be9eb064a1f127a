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


def _in_a_process(code, threads, tmp_path, coretype=None):
    """Run python code in a fresh process whose OpenBLAS starts with `threads` threads
    (and, given coretype, with the kernel family OPENBLAS_CORETYPE forces)."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": str(threads), "PYTHONPATH": str(ROOT)}
    env.pop("OPENBLAS_CORETYPE", None)
    if coretype:
        env["OPENBLAS_CORETYPE"] = coretype
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


# Kernel families every x86-64 DYNAMIC_ARCH OpenBLAS can run on any x86-64 CPU with
# AVX (the oldest, Nehalem, needs only SSE4), named as its get_corename spells them.
FORCED_KERNELS = {"Nehalem": "Nehalem", "SandyBridge": "Sandybridge"}


def forcible():
    import platform
    if not numpy_bundles_openblas() or platform.machine().lower() not in ("x86_64", "amd64"):
        pytest.skip("forcing an OpenBLAS kernel needs NumPy's bundled x86-64 OpenBLAS")


@pytest.mark.parametrize("threads,coretype", [(1, "Nehalem"), (2, "SandyBridge")])
def test_each_trained_model_records_the_blas_thread_count_and_kernel(threads, coretype,
                                                                      tmp_path):
    """advref reproduce and advref train save the count and kernel their process
    trained with: here the ones OPENBLAS_NUM_THREADS and OPENBLAS_CORETYPE forced."""
    forcible()
    code = ("from advref import models; from advref.cli.parser import main;"
            "from pathlib import Path;"
            "assert main(['reproduce', '--profile', 'sample', '--out', 'r', '--train',"
            " 'softmax']) == 0;"
            "assert main(['train', 'softmax', '--data', 'sample', '--epochs', '2',"
            " '--out', 't.npz']) == 0;"
            "f = next(Path('r/models').glob('softmax-*.npz'));"
            "a = models.load(f, with_extra=True)[1];"
            "b = models.load('t.npz', with_extra=True)[1];"
            "print(a['blas_threads'], b['blas_threads'], a['blas']['threads'],"
            " b['blas']['threads'], a['blas']['kernel'], b['blas']['kernel'])")
    got = _in_a_process(code, threads, tmp_path, coretype).splitlines()[-1]
    kernel = FORCED_KERNELS[coretype]
    assert got == f"{threads} {threads} {threads} {threads} {kernel} {kernel}"


def test_the_recorded_blas_library_and_version_are_the_running_openblas():
    """NumPy's build record names the library; the running OpenBLAS's own
    get_config string ("OpenBLAS 0.3.31 ... Haswell ...") must agree with it."""
    from advref._blas_threads import _openblas_functions_of, numpy_blas
    forcible()
    config = _openblas_functions_of(np, "get_config")[0]
    config.restype = __import__("ctypes").c_char_p
    words = config().decode().split()
    got = numpy_blas()
    if got["library"] is None:               # NumPy < 1.25 keeps no build record
        assert np.lib.NumpyVersion(np.__version__) < "1.25.0"
    else:
        assert "openblas" in got["library"].lower()
        assert words[0] == "OpenBLAS" and words[1] == got["version"]
    assert got["kernel"] in words


def test_numpy_blas_threads_reads_numpys_pool_not_scipys(tmp_path):
    """NumPy and SciPy bundle separate OpenBLAS pools: setting SciPy's to one thread
    inside scipy_blas_single_thread leaves NumPy's count (2) as it was."""
    code = ("from advref._blas_threads import numpy_blas_threads, scipy_blas_single_thread;"
            "\nwith scipy_blas_single_thread(): print(numpy_blas_threads())")
    got = _in_a_process(code, 2, tmp_path)
    assert got == ("2" if numpy_bundles_openblas() else "None")


def test_numpys_single_thread_block_sets_one_and_restores_the_count(tmp_path):
    """reproduce --plan probes inside it: in a process given two threads, the count is
    1 inside the block and 2 again after it."""
    code = ("from advref._blas_threads import numpy_blas_threads, numpy_blas_single_thread;"
            "\nwith numpy_blas_single_thread(): print(numpy_blas_threads())"
            "\nprint(numpy_blas_threads())")
    got = _in_a_process(code, 2, tmp_path).split()
    assert got == (["1", "2"] if numpy_bundles_openblas() else ["None", "None"])
