"""Long measurements in resumable chunks.

Benchmark 2 over the whole test set takes about an hour on two cores, longer
than a run may live. `in_chunks` splits the items into fixed chunks, stores each
finished chunk's arrays atomically in DIR/chunks/, and on the next run loads the
chunks already done instead of recomputing them. A chunk file carries the key of
the measurement (model digest, settings, the items) and is used only under it;
a file of another key or a damaged file is refused (ChunkError), never mixed in.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import numpy as np

from advref.data_loaders.files import atomic_write_bytes, check_regular_file


class ChunkError(ValueError):
    """A chunk file that belongs to another measurement or cannot be read."""


def measurement_key(description: dict) -> str:
    return hashlib.sha256(json.dumps(description, sort_keys=True).encode()).hexdigest()


def in_chunks(folder, tag, key, n, size, compute, log=None):
    """compute(start, stop) -> {name: 1-d array over items start..stop}, run for
    each chunk not stored yet; returns each name's arrays joined over all n items."""
    folder = Path(folder) / "chunks"
    folder.mkdir(parents=True, exist_ok=True)
    parts = []
    for start in range(0, n, size):
        stop = min(start + size, n)
        path = folder / f"{tag}-{key[:12]}-{start:06d}-{stop:06d}.npz"
        if path.exists():
            parts.append(_load(path, key))
            continue
        part = compute(start, stop)
        buf = io.BytesIO()
        np.savez(buf, __key__=np.array(key), **part)
        atomic_write_bytes(path, buf.getvalue())
        if log:
            print(f"[reproduce] {tag}: items {start}-{stop} of {n} stored in {path.name}",
                  file=log)
        parts.append(part)
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]} if parts else {}


def _load(path, key):
    check_regular_file(path, "chunk file")
    try:
        with np.load(path, allow_pickle=False) as f:
            stored = str(f["__key__"])
            arrays = {k: f[k] for k in f.files if k != "__key__"}
    except (OSError, ValueError, KeyError, EOFError) as e:
        raise ChunkError(f"chunk file {path} cannot be read ({e}); delete it to recompute "
                         "that chunk.") from e
    if stored != key:
        raise ChunkError(f"chunk file {path} belongs to another measurement (key "
                         f"{stored[:12]}, expected {key[:12]}); delete it to recompute.")
    return arrays
