"""`--save-examples FILE.npz`: the adversarial examples a command made, with every
parameter, in a file NumPy reads without pickle.

The file holds the arrays the command names (for `attack`: x, x_adv, y and the
model's predictions on both; for `minimal`: x, x_adv, y, success, l2; for
`rubbish`: the samples and the model's predictions, and after a step the moved
samples) and `params`, a 0-d string array of the command's JSON result (model
digest, data, eps, settings, ...). Read it with

    with np.load("FILE.npz", allow_pickle=False) as f:
        x_adv, params = f["x_adv"], json.loads(str(f["params"]))

The target is checked before any work, and the write is atomic.
"""

from __future__ import annotations

import io

import numpy as np

from advref import _json as strict_json
from advref.data_loaders.files import atomic_write_bytes, check_writable_target


def add_save_argument(p):
    p.add_argument("--save-examples", metavar="FILE.npz",
                   help="also write the examples and every parameter to FILE.npz "
                        "(no pickle: np.load(FILE, allow_pickle=False))")


def check_save_target(args):
    """Fail before any work when --save-examples could not be written."""
    if args.save_examples is not None:
        check_writable_target(args.save_examples, "--save-examples")


def save_examples(args, arrays, result):
    """Write `arrays` and the command's `result` (as strict JSON) when asked to."""
    if args.save_examples is None:
        return
    buf = io.BytesIO()
    np.savez(buf, params=np.array(strict_json.dumps(result)),
             **{k: np.asarray(v) for k, v in arrays.items()})
    atomic_write_bytes(args.save_examples, buf.getvalue())
