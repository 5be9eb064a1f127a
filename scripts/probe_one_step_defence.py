"""What an FGSM-trained model resists: its own one-step perturbation, or the attack?

    ADVREF_DATA=... python scripts/probe_one_step_defence.py MODEL.npz [MODEL.npz ...]

A measurement for docs/results-paper.md, not part of advref. On the 10,000
MNIST test images, with eps .25 and the true labels, it prints one JSON line
per model with the error on:

- FGSM, unclipped and clipped to [0, 1];
- the clipped examples with the unclipped example's own below-0 pixels put back;
- the clipped examples with as many -eps pixels at random background (x = 0)
  positions, and clean images with those same random pixels;
- clean images with the below-0 pixels that FGSM for a random wrong label y2
  writes, and how often the model then answers y2 (does it read the pattern
  as a label code?);
- FGSM toward the model's own predictions instead of the true labels;
- R+FGSM: a random sign step of eps/2, then an FGSM step of eps/2;
- iterative FGSM: 10 steps of eps/4, each projected back onto the eps ball
  (and onto [0, 1] in the clipped variant).

Random draws use seed 0. Only advref's attacks (`fgsm`, `iterative_fgsm`,
`random_step_fgsm`), `evaluate` and NumPy are used, so each number can be
recomputed from these definitions.
"""
import json
import sys

import numpy as np

from advref import models
from advref.analysis.metrics import evaluate
from advref.attacks.fast_gradient import fgsm
from advref.attacks.iterative import iterative_fgsm, random_step_fgsm
from advref.data_loaders import load_mnist

EPS = 0.25
STEPS = 10


def iterative(model, x, y, box):
    return iterative_fgsm(model, x, EPS, y=y, steps=STEPS, step_size=EPS / 4,
                          clip=(0.0, 1.0) if box else None)


def random_then_fgsm(model, x, y, box, rng):
    return random_step_fgsm(model, x, EPS, y=y, alpha=EPS / 2, clip=(0.0, 1.0) if box else None,
                            rng=rng)


def probe(model, x, y):
    rng = np.random.default_rng(0)
    err = lambda a: evaluate(model, a, y)["error"]          # noqa: E731
    unclipped = fgsm(model, x, EPS, y=y, clip=None)
    clipped = np.clip(unclipped, 0.0, 1.0)
    below = unclipped < 0
    random_below, clean_random = clipped.copy(), x.copy()
    for i in range(len(x)):
        background = np.flatnonzero(x[i] == 0)
        pick = rng.choice(background, size=min(int(below[i].sum()), background.size),
                          replace=False)
        random_below[i, pick] = -EPS
        clean_random[i, pick] = -EPS
    y2 = (y + 1 + rng.integers(0, 9, len(y))) % 10
    other = fgsm(model, x, EPS, y=y2, clip=None)
    answers = model.predict(np.where(other < 0, other, x))
    return {
        "share of unclipped pixels below 0": float(below.mean()),
        "FGSM unclipped": err(unclipped),
        "FGSM clipped": err(clipped),
        "clipped + own below-0 pixels": err(np.where(below, unclipped, clipped)),
        "clipped + random below-0 pixels": err(random_below),
        "clean + random below-0 pixels": err(clean_random),
        "clean + wrong label's below-0 pixels": float(np.mean(answers != y)),
        "clean + wrong label's below-0 pixels: answers that label": float(np.mean(answers == y2)),
        "FGSM unclipped, predicted labels": err(fgsm(model, x, EPS, y=model.predict(x), clip=None)),
        "R+FGSM unclipped": err(random_then_fgsm(model, x, y, False, rng)),
        "R+FGSM clipped": err(random_then_fgsm(model, x, y, True, rng)),
        "iterative unclipped": err(iterative(model, x, y, False)),
        "iterative clipped": err(iterative(model, x, y, True)),
    }


def main(paths):
    for path in paths:
        model = models.load(path)
        data = load_mnist(dtype=model.dtype)
        result = probe(model, data.x_test, data.y_test)
        print(json.dumps({"model": path, **{k: round(v, 4) for k, v in result.items()}}))


if __name__ == "__main__":
    main(sys.argv[1:])
