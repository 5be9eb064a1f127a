"""advref._allocator: freed memory kept for reuse, checked by the kernel's page-fault
counts, and the numbers it must never change."""

import os
import subprocess
import sys
import textwrap

import pytest

from advref import _allocator
from advref._allocator import MMAP_THRESHOLD, TRIM_THRESHOLD, retain_freed_memory

VARIABLES = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")
on_glibc = pytest.mark.skipif(_allocator.glibc() is None,
                              reason="the thresholds are glibc's; elsewhere nothing is set")

# 40 MB: above the 32 MiB ceiling of glibc's own dynamic threshold, so without the
# settings every such array is a fresh mapping, faulting at least once per 2 MB
FAULT_LOOP = """
import resource
import numpy as np
def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
a = np.ones(5_000_000); del a
before = faults()
for _ in range(4):
    a = np.ones(5_000_000); del a
print(faults() - before)
"""


def python(code, env_extra=None):
    env = {k: v for k, v in os.environ.items() if k not in VARIABLES}
    env.update(env_extra or {})
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env,
                          capture_output=True, text=True, timeout=120, check=True)
    return done.stdout.split()


@on_glibc
def test_freed_arrays_are_reused_without_a_page_fault():
    plain = int(python(FAULT_LOOP)[-1])
    kept = int(python("from advref._allocator import retain_freed_memory\n"
                      "assert retain_freed_memory()\n" + FAULT_LOOP)[-1])
    assert plain >= 4 * 20          # four fresh 40 MB mappings, 2 MB pages at the largest
    assert kept == 0


@on_glibc
def test_processes_started_afterwards_keep_freed_memory_too():
    """The settings reach a child through the environment (spawn, forkserver)."""
    out = python(f"""
        import subprocess, sys
        from advref._allocator import retain_freed_memory
        retain_freed_memory()
        print(subprocess.run([sys.executable, "-c", {FAULT_LOOP!r}], capture_output=True,
                             text=True, check=True).stdout)
        import os
        print(os.environ["MALLOC_MMAP_THRESHOLD_"], os.environ["MALLOC_TRIM_THRESHOLD_"])
        """)
    assert out == ["0", str(256 * 2**20), str(512 * 2**20)]


@on_glibc
def test_a_threshold_the_user_set_is_left_as_set():
    out = python("""
        import os
        from advref._allocator import retain_freed_memory
        print(retain_freed_memory(), os.environ["MALLOC_MMAP_THRESHOLD_"],
              os.environ["MALLOC_TRIM_THRESHOLD_"])
        """, {"MALLOC_TRIM_THRESHOLD_": "12345"})
    assert out == ["True", str(MMAP_THRESHOLD), "12345"]


def unset(monkeypatch, *names):
    """Remove the variables for one test; what retain_freed_memory sets goes with it."""
    for name in names:
        monkeypatch.setenv(name, "")       # recorded as it was, so undone after the test
        monkeypatch.delenv(name)


class FakeLibc:
    """mallopt recorded, answering 1 (taken) or 0 (refused) per parameter."""

    def __init__(self, answers):
        self.answers, self.calls = answers, []

    def mallopt(self, parameter, value):
        self.calls.append((parameter.value, value.value))
        return self.answers[parameter.value]


def test_mallopt_gets_glibcs_parameter_numbers_and_the_byte_counts(monkeypatch):
    """M_MMAP_THRESHOLD is -3 and M_TRIM_THRESHOLD -1 in glibc's malloc.h."""
    libc = FakeLibc({-3: 1, -1: 1})
    monkeypatch.setattr(_allocator, "glibc", lambda: libc)
    unset(monkeypatch, *VARIABLES)
    assert retain_freed_memory() is True
    assert libc.calls == [(-3, 268_435_456), (-1, 536_870_912)]
    assert (os.environ["MALLOC_MMAP_THRESHOLD_"], os.environ["MALLOC_TRIM_THRESHOLD_"]) == (
        "268435456", "536870912")
    assert (MMAP_THRESHOLD, TRIM_THRESHOLD) == (256 * 1024**2, 512 * 1024**2)


def test_a_refused_setting_says_false_and_stays_out_of_the_environment(monkeypatch):
    libc = FakeLibc({-3: 0, -1: 1})
    monkeypatch.setattr(_allocator, "glibc", lambda: libc)
    unset(monkeypatch, *VARIABLES)
    assert retain_freed_memory(1000, 2000) is False
    assert libc.calls == [(-3, 1000), (-1, 2000)]
    assert "MALLOC_MMAP_THRESHOLD_" not in os.environ
    assert os.environ["MALLOC_TRIM_THRESHOLD_"] == "2000"


def test_a_users_mmap_threshold_still_lets_the_trim_threshold_be_set(monkeypatch):
    libc = FakeLibc({-3: 1, -1: 1})
    monkeypatch.setattr(_allocator, "glibc", lambda: libc)
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "4096")
    unset(monkeypatch, "MALLOC_TRIM_THRESHOLD_")
    assert retain_freed_memory() is True
    assert libc.calls == [(-1, 536_870_912)]
    assert (os.environ["MALLOC_MMAP_THRESHOLD_"], os.environ["MALLOC_TRIM_THRESHOLD_"]) == (
        "4096", "536870912")


def test_without_glibc_nothing_is_changed(monkeypatch):
    monkeypatch.setattr(_allocator, "glibc", lambda: None)
    unset(monkeypatch, *VARIABLES)
    assert retain_freed_memory() is False
    assert not any(name in os.environ for name in VARIABLES)


def test_glibc_is_found_only_with_its_own_symbol(monkeypatch):
    class Library:
        def __init__(self, name):
            if name is not None:
                raise OSError("not loadable")

    class Musl(Library):
        pass

    class Glibc(Library):
        gnu_get_libc_version = object()

    monkeypatch.setattr(_allocator.ctypes, "CDLL", Musl)
    assert _allocator.glibc() is None
    monkeypatch.setattr(_allocator.ctypes, "CDLL", Glibc)
    assert isinstance(_allocator.glibc(), Glibc)

    def no_process_library(name):
        raise TypeError("Windows: CDLL(None)")
    monkeypatch.setattr(_allocator.ctypes, "CDLL", no_process_library)
    assert _allocator.glibc() is None


def test_every_advref_command_runs_with_it(monkeypatch, capsys):
    from advref.cli import parser

    calls = []
    monkeypatch.setattr(parser, "retain_freed_memory", lambda: calls.append("kept"))
    parser.main(["data", "info"])           # 0 or 1, as MNIST is found or not
    assert calls == ["kept"]
    assert "bundled sample" in capsys.readouterr().out


TRAIN = """
import hashlib, resource
import numpy as np
from advref.models import MaxoutMLP
from advref.training.objectives import adversarial
from advref.training.sgd import sgd_step
gen = np.random.default_rng(0)
x = gen.random((1000, 784), dtype=np.float32)
y = gen.integers(0, 10, 1000)
model = MaxoutMLP(rng=0, dtype=np.float32)
velocity = {k: np.zeros_like(p) for k, p in model.params.items()}
objective = adversarial(eps=0.25, alpha=0.5, grad="train")
for _ in range(6):
    _, grads = objective(model, x, y, gen)
    sgd_step(model, grads, velocity, 0.5, 0.05, {}, model.max_col_norm)
h = hashlib.sha256(b"".join(model.params[k].tobytes() for k in sorted(model.params)))
print(h.hexdigest(), resource.getrusage(resource.RUSAGE_SELF).ru_minflt)
"""


@on_glibc
def test_training_at_batch_1000_gives_the_same_bits_with_fewer_faults():
    """Where memory comes from must not change a value: six adversarial updates at
    batch 1000 (arrays of 4.8-9.6 MB), with glibc's defaults and with the settings."""
    plain_digest, plain_faults = python(TRAIN)
    kept_digest, kept_faults = python(TRAIN, {"MALLOC_MMAP_THRESHOLD_": str(MMAP_THRESHOLD),
                                              "MALLOC_TRIM_THRESHOLD_": str(TRIM_THRESHOLD)})
    assert kept_digest == plain_digest
    assert int(kept_faults) < int(plain_faults) - 6 * 1000
