"""A vector set is untrusted input (issue 30): each hostile set below is refused by
`advref vectors --check` before any work, in one line naming the file, with exit
status 2, within a time bound and under a memory cap."""

import hashlib
import io
import json
import os
import resource
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from advref.tools.conformance import ADVREF, check
from advref.tools.vector_files import VectorSetError
from advref.tools.vectors import VERSION

ROOT = Path(__file__).resolve().parents[2]
CAP = 2 * 2**30


def copy_of(vectors, tmp_path):
    folder = tmp_path / "set"
    shutil.copytree(vectors, folder)
    return folder


def manifest(folder):
    return json.loads((folder / "manifest.json").read_text())


def write_manifest(folder, value):
    (folder / "manifest.json").write_text(json.dumps(value))


def rewrite_case(folder, index, arrays, members=None):
    """Replace case `index`'s file by `arrays` (or raw zip `members`), fixing its SHA-256."""
    m = manifest(folder)
    path = folder / m["cases"][index]["file"]
    if members is None:
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        path.write_bytes(buf.getvalue())
    else:
        with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
            for name, content in members:
                zf.writestr(name, content)
    m["cases"][index]["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    write_manifest(folder, m)


def case_arrays(folder, index):
    with np.load(folder / manifest(folder)["cases"][index]["file"]) as npz:
        return {k: npz[k] for k in npz.files}


def npy(shape, payload=b""):
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "<f8", "fortran_order": False,
                                               "shape": shape})
    return buf.getvalue() + payload


def capped():
    resource.setrlimit(resource.RLIMIT_AS, (CAP, CAP))


def check_refused(folder, *expected):
    env = dict(os.environ, PYTHONPATH=str(ROOT), OPENBLAS_NUM_THREADS="1")
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "advref", "vectors", "--check", str(folder)],
                          env=env, capture_output=True, text=True, timeout=60,
                          preexec_fn=capped)
    err = proc.stderr.strip()
    assert proc.returncode == 2, (proc.returncode, err, proc.stdout[-300:])
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert err.startswith("advref vectors: error: "), err
    for part in expected:
        assert part in err, err
    assert time.monotonic() - start < 30
    # the same refusal in this process, word for word (the library's own error)
    with pytest.raises(VectorSetError) as refused:
        check(folder, ADVREF)
    assert f"advref vectors: error: {refused.value}" == err


def edit_case(folder, index, **changes):
    m = manifest(folder)
    m["cases"][index].update(changes)
    write_manifest(folder, m)


@pytest.mark.parametrize("name", ["../outside.npz", "/etc/hostname", "sub/x.npz", "..", ""])
def test_case_files_are_confined_to_the_sets_folder(vectors, tmp_path, name):
    folder = copy_of(vectors, tmp_path)
    (tmp_path / "outside.npz").write_bytes((folder / "logistic.npz").read_bytes())
    edit_case(folder, 0, file=name)
    check_refused(folder, "manifest.json", "must name a file inside the set's folder",
                  repr(name))


def test_a_fifo_and_a_link_to_dev_zero_are_refused_unread(vectors, tmp_path):
    folder = copy_of(vectors, tmp_path)
    first = manifest(folder)["cases"][0]["file"]
    (folder / first).unlink()
    os.mkfifo(folder / first)
    check_refused(folder, first, "must be a regular file, got a special file instead")
    (folder / first).unlink()
    (folder / first).symlink_to("/dev/zero")
    check_refused(folder, first, "must be a regular file, got a link instead")


def test_a_configuration_larger_than_its_weights_is_refused_before_building(vectors,
                                                                             tmp_path):
    folder = copy_of(vectors, tmp_path)
    config = dict(manifest(folder)["cases"][1]["config"], n_features=30_000_000)
    edit_case(folder, 1, config=config)
    check_refused(folder, "configures", "parameters, its weights hold")
    edit_case(folder, 1, config=dict(config, n_features=10**9))
    check_refused(folder, "configures")


def test_a_member_header_claiming_more_than_the_file_holds_is_refused(vectors, tmp_path):
    folder = copy_of(vectors, tmp_path)
    rewrite_case(folder, 0, None, members=[("x.npy", npy((2**40,), b"\0" * 64))])
    check_refused(folder, "declares", "bytes of data, it holds 64")


def test_two_members_with_one_name_are_refused(vectors, tmp_path):
    folder = copy_of(vectors, tmp_path)
    arrays = case_arrays(folder, 0)
    buf = io.BytesIO()
    np.lib.format.write_array(buf, arrays["x"])
    members = [(f"{k}.npy", _npy_bytes(v)) for k, v in arrays.items()]
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                # zipfile warns of the duplicate
        rewrite_case(folder, 0, None, members=members + [("x.npy", buf.getvalue())])
    check_refused(folder, "holds the member x.npy twice")


def _npy_bytes(value):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, value)
    return buf.getvalue()


@pytest.mark.parametrize("value, message", [
    ([1, 2], "the manifest must be a JSON object, got a list instead"),
    ({"format": "advref-vectors", "version": VERSION}, "cases must be a non-empty list"),
    ({"format": "advref-vectors", "version": 1, "cases": []},
     "must be format 'advref-vectors' version 2, got 'advref-vectors' version 1"),
    ("not json", "the manifest must be JSON"),
])
def test_malformed_manifests_are_refused(vectors, tmp_path, value, message):
    folder = copy_of(vectors, tmp_path)
    if value == "not json":
        (folder / "manifest.json").write_text("{not json")
    else:
        write_manifest(folder, value)
    check_refused(folder, "manifest.json", message)


def test_cases_missing_fields_unknown_kinds_and_repeats_are_refused(vectors, tmp_path):
    folder = copy_of(vectors, tmp_path)
    good = manifest(folder)
    broken = json.loads(json.dumps(good))
    del broken["cases"][0]["sha256"]
    write_manifest(folder, broken)
    check_refused(folder, "case 0 needs 'sha256' as a str, got None instead")
    broken = json.loads(json.dumps(good))
    broken["cases"][2]["kind"] = "Perceptron"
    write_manifest(folder, broken)
    check_refused(folder, "has kind 'Perceptron'; expected one of")
    broken = json.loads(json.dumps(good))
    broken["cases"].append(broken["cases"][0])
    write_manifest(folder, broken)
    check_refused(folder, "repeats the name")
    broken = json.loads(json.dumps(good))
    broken["cases"][1]["name"] = broken["cases"][0]["name"]
    write_manifest(folder, broken)
    check_refused(folder, "repeats the name")


def test_a_nan_reference_is_the_vector_sets_fault(vectors, tmp_path):
    folder = copy_of(vectors, tmp_path)
    arrays = case_arrays(folder, 1)
    key = next(k for k in arrays if k.startswith("ref/fgsm"))
    arrays[key] = arrays[key].copy()
    arrays[key][0, 0] = np.nan
    rewrite_case(folder, 1, arrays)
    name = manifest(folder)["cases"][1]["name"]
    check_refused(folder, f"case {name!r}: the reference {key} holds NaN or inf; the vector "
                  "set is broken (not the implementation under test)")


def test_the_pristine_set_still_passes(vectors, capsys):
    from advref.cli.parser import main

    assert main(["vectors", "--check", str(vectors)]) == 0
    # the subject --help names, given explicitly
    assert main(["vectors", "--check", str(vectors), "--impl",
                 "advref.tools.conformance:ADVREF"]) == 0
