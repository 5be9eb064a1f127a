"""`advref show MODEL.npz --out FILE.png`: one adversarial example as a picture.

The clean test image, the perturbation and the adversarial image side by side,
with the model's class and confidence on each (advref.drawing.example). The
example is made here by FGSM (L_inf, true labels unless --labels predicted,
clipped to [0, 1] unless --no-clip), or read from a file that `attack` or
`minimal` wrote with --save-examples.
"""

from __future__ import annotations

import json
import zipfile

import numpy as np

from advref._validation import check_eps
from advref.attacks.fast_gradient import fgsm
from advref.cli._common import emit, load_model, test_data
from advref.data_loaders.files import check_writable_target
from advref.datasets import DATA_CHOICES
from advref.drawing import plot_example, write_png

CLIP = (0.0, 1.0)


DESCRIPTION = ("Draw the clean image, the perturbation and the adversarial image of one "
               "example side by side, with the model's class and confidence on each, like "
               "the paper's Figure 1, as a PNG file (no plotting library needed).")


def register(sub):
    p = sub.add_parser("show", help="draw one adversarial example as a PNG picture",
                       description=DESCRIPTION)
    p.add_argument("model_file", metavar="MODEL.npz", help="a model saved by advref train")
    p.add_argument("--out", required=True, metavar="FILE.png", help="the picture to write")
    p.add_argument("--index", type=int, default=0,
                   help="which test image (or which example of --examples); default 0")
    p.add_argument("--eps", type=float, default=0.25, help="FGSM eps (default .25)")
    p.add_argument("--labels", choices=("true", "predicted"), default="true",
                   help="whose loss FGSM ascends: the true labels or the model's own")
    p.add_argument("--no-clip", action="store_true",
                   help="do not clip the adversarial image to [0, 1]")
    p.add_argument("--examples", metavar="FILE.npz",
                   help="draw example --index of a file written by `attack` or `minimal` "
                        "with --save-examples instead of making one")
    p.add_argument("--data", choices=DATA_CHOICES,
                   help="test data (default: what the model was trained on)")
    p.add_argument("--scale", type=int, default=6,
                   help="each input pixel becomes SCALE x SCALE picture pixels (6)")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(run=run_show, n=None)


def check_arguments(args):
    """Refuse bad arguments by name before any file is read."""
    if args.index < 0:
        raise ValueError(f"--index must be >= 0, got {args.index} instead.")
    if not 1 <= args.scale <= 64:
        raise ValueError(f"--scale must be in [1, 64], got {args.scale} instead.")
    check_eps(args.eps, "--eps")
    if args.examples is not None and args.data is not None:
        raise ValueError("--data chooses the test images FGSM perturbs; --examples brings "
                         "its own, so give one of them, not both.")
    check_writable_target(args.out, "--out")


def read_examples(path, index):
    """(x, x_adv, y or None, the file's params) of example `index` of --examples."""
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in ("x", "x_adv", "y", "params") if k in f.files}
            names = sorted(f.files)
        params = json.loads(str(arrays["params"])) if "params" in arrays else {}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as err:
        # ValueError: a pickle or text file, an object array, JSON that does not parse
        raise ValueError(f"--examples {path} is not an examples file: {err}") from None
    if not {"x", "x_adv"} <= set(arrays):
        raise ValueError(f"--examples {path} must hold x and x_adv, as `attack` and "
                         f"`minimal` --save-examples write, got arrays {names} instead.")
    x, x_adv, y = arrays["x"], arrays["x_adv"], arrays.get("y")
    if x.ndim != 2 or x.shape != x_adv.shape or x.dtype.kind != "f":
        raise ValueError(f"--examples {path}: x and x_adv must be float arrays of one "
                         f"shape (n, d), got {x.dtype} {x.shape} and {x_adv.dtype} "
                         f"{x_adv.shape} instead.")
    if index >= len(x):
        raise ValueError(f"--index must be below the {len(x)} examples of --examples "
                         f"{path}, got {index} instead.")
    label = None if y is None or len(y) != len(x) else int(y[index])
    return x[index], x_adv[index], label, params


def run_show(args):
    check_arguments(args)
    model, desc = load_model(args.model_file)
    if args.examples is not None:
        x, x_adv, y, params = read_examples(args.examples, args.index)
        if x.size != model.n_features:
            raise ValueError(f"--examples {args.examples} holds inputs of {x.size} values, "
                             f"the model takes {model.n_features}.")
        source = {"examples": str(args.examples),
                  "made_on": (params.get("model") or {}).get("sha256")}
    else:
        xs, ys, data = test_data(args, model, desc)
        if args.index >= len(xs):
            raise ValueError(f"--index must be below the {len(xs)} test images of {data}, "
                             f"got {args.index} instead.")
        x, y = xs[args.index], int(ys[args.index])
        label = y if args.labels == "true" else int(model.predict(x[None])[0])
        x_adv = fgsm(model, x[None], args.eps, y=np.array([label]),
                     clip=None if args.no_clip else CLIP)[0]
        source = {"data": data, "method": "fgsm", "eps": args.eps, "norm": "inf",
                  "labels": f"{args.labels} labels", "clip": None if args.no_clip else CLIP}
    picture = plot_example(model, x, x_adv, y, scale=args.scale)
    write_png(args.out, picture, "--out")
    p, q = model.predict_proba(np.stack([x, x_adv]).astype(model.dtype))
    result = {"model": desc, "index": args.index, "label": y, "out": str(args.out),
              "clean": {"predicted": int(p.argmax()), "confidence": float(p.max())},
              "adversarial": {"predicted": int(q.argmax()), "confidence": float(q.max())},
              "l2": float(np.linalg.norm(x_adv.astype(np.float64) - x)),
              "linf": float(np.max(np.abs(x_adv.astype(np.float64) - x))), **source}
    result["model"] = {k: v for k, v in desc.items() if k != "extra"}
    c, a = result["clean"], result["adversarial"]
    emit(args, result, [f"clean: label {y}, predicted {c['predicted']} "
                        f"({c['confidence']:.1%}); adversarial: predicted {a['predicted']} "
                        f"({a['confidence']:.1%}); L_inf {result['linf']:.3g}, "
                        f"L2 {result['l2']:.3g}", f"picture written to {args.out}"])
    return 0
