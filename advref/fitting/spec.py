"""A training run as a frozen, typed value: what to train, on what, and how.

    TrainSpec   the recipe (with its data kind), the objective, the monitor, the
                weight decay, the data and its digest, seed, dtype and the
                second-stage rule; it gives its own key and its own label
    Objective   clean, adversarial (eps, alpha, clip, adv_grad), noise (sign or
                uniform) or VAT, built into the trainer's objective function
    Monitor     the validation error early stopping watches, with its clip

The key is the SHA-256 (or, for `advref train`'s checkpoints, the dict) of
everything that determines the trained parameters. Two schemes exist so that
every file written before this module stays valid: "reproduce" (the model
cache's, by model name and training variant) and "train" (the `advref train`
command's). Each is a pure function of the typed fields. TRAINING_CODE is the
revision of advref's own draws and layouts, raised whenever the same seed would
train different parameters: 1, first release; 2, piece-major maxout columns and
bit-draw dropout masks; 3, the exact softmax and one-vs-rest gradients at saturation
(models/outputs.py), which change float32 training once p_y rounds to 1.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

import numpy as np

from advref.analysis.metrics import error_rate
from advref.fitting.recipes import Recipe
from advref.training.monitors import adversarial_error
from advref.training.objectives import adversarial, check_adv_grad, noise
from advref.training.virtual_adversarial import vat

TRAINING_CODE = 3
KINDS = ("clean", "adversarial", "noise-sign", "noise-uniform", "vat")
NOISES = {"noise-sign": "sign", "noise-uniform": "uniform"}     # kind -> advref noise kind
BOX = (0.0, 1.0)


def array_digest(*arrays) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(str((a.shape, a.dtype.str)).encode())
        h.update(np.ascontiguousarray(a).data)
    return h.hexdigest()


@dataclass(frozen=True)
class Objective:
    kind: str = "clean"
    eps: float = 0.25              # adversarial and noise: the step; VAT: the L2 radius
    alpha: float = 0.5             # the clean loss's weight
    clip: tuple | None = BOX       # the box of the training examples
    adv_grad: str = "eval"         # adversarial: how x_adv's gradient is taken
    unlabelled: int | None = None  # VAT: the unlabelled examples' count (None: supervised)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"objective must be one of {', '.join(KINDS)}, got {self.kind!r} "
                             "instead.")
        if check_adv_grad(self.adv_grad) != "eval" and self.kind != "adversarial":
            raise ValueError(f"adv_grad chooses how adversarial training makes x_adv, got "
                             f"adv_grad={self.adv_grad!r} with objective {self.kind!r} instead.")

    def build(self, *, x_unlabelled=None, unlabelled_batch=None):
        """The trainer's objective function (None: its clean default)."""
        if self.kind == "vat":
            return vat(self.eps, x_unlabelled=x_unlabelled, unlabelled_batch=unlabelled_batch)
        clip = None if self.clip is None else tuple(self.clip)
        if self.kind == "adversarial":
            return adversarial(self.eps, self.alpha, clip=clip, grad=self.adv_grad)
        if self.kind in NOISES:
            return noise(NOISES[self.kind], self.eps, self.alpha, clip=clip)
        return None

    def label(self) -> str:
        unclipped = "" if self.clip is not None else ", unclipped"
        if self.kind == "adversarial":
            how = "" if self.adv_grad == "eval" else ", x_adv from the training loss (dropout)"
            return f"adversarial eps {self.eps} alpha {self.alpha}{unclipped}{how}"
        if self.kind in NOISES:
            return f"{NOISES[self.kind]} noise eps {self.eps}{unclipped}"
        if self.kind == "vat":
            return (f"VAT eps {self.eps} (supervised)" if self.unlabelled is None
                    else f"VAT eps {self.eps} on {self.unlabelled} unlabelled")
        return "clean"


@dataclass(frozen=True)
class Monitor:
    kind: str = "clean"            # or "adversarial": error on FGSM examples of eps
    eps: float = 0.25
    clip: tuple | None = BOX

    def __post_init__(self):
        if self.kind not in ("clean", "adversarial"):
            raise ValueError(f"monitor must be 'clean' or 'adversarial', got {self.kind!r} "
                             "instead.")

    def build(self):
        if self.kind == "clean":
            return error_rate
        return adversarial_error(self.eps, clip=None if self.clip is None else tuple(self.clip))


@dataclass(frozen=True)
class TrainSpec:
    recipe: Recipe
    settings: dict = field(compare=False)   # the trainer's settings (recipe's, capped)
    objective: Objective = Objective()
    monitor: Monitor = Monitor()
    decay: dict = field(default_factory=dict, compare=False)   # {"l1"|"l2": {W: coef}}
    data: str = "mnist"
    data_sha256: str = ""
    seed: int = 0
    member: int = 0                # ensemble members train from seed + member
    dtype: str = "float32"
    stage2: str | None = None      # None, "continue" or "retrain"
    labels: int | None = None      # `advref train --labels`: the labelled subset's size
    scheme: str = "train"          # the key's scheme (module docstring)
    name: str = ""                 # the reproduce scheme's model name

    @property
    def train_seed(self) -> int:
        return self.seed + self.member

    def trainer_settings(self, **objective_inputs) -> dict:
        """Keyword arguments of advref.training.sgd.train for this run."""
        out = dict(self.settings, **self.decay)
        objective = self.objective.build(**objective_inputs)
        if objective is not None:
            out["objective"] = objective
        out["monitor"] = self.monitor.build()
        return out

    def label(self) -> str:
        what = self.name or self.recipe.name
        stage = f", then the {self.stage2} rule" if self.stage2 else ""
        return (f"{what} on {self.data} ({self.dtype}, seed {self.train_seed}, "
                f"{self.objective.label()}, monitor {self.monitor.kind}{stage})")

    def key_dict(self) -> dict:
        return self._reproduce_key() if self.scheme == "reproduce" else self._train_key()

    def key(self):
        """What checkpoints and model files carry: the train scheme's dict, or the
        reproduce scheme's SHA-256 of its canonical JSON."""
        if self.scheme == "reproduce":
            return hashlib.sha256(json.dumps(self.key_dict(), sort_keys=True).encode()
                                  ).hexdigest()
        return self.key_dict()

    def variant(self) -> dict:
        """The reproduce scheme's training variant (profiles.MODELS' form)."""
        o, out = self.objective, {}     # type: Objective, dict[str, object]
        if o.kind != "clean":
            out.update(objective=o.kind, eps=o.eps, alpha=o.alpha,
                       clip=None if o.clip is None else list(o.clip))
            if o.adv_grad != "eval":
                out["adv_grad"] = o.adv_grad   # absent means eval: earlier keys stay valid
        if self.monitor.kind != "clean":
            out["monitor"] = self.monitor.kind
        if "l1" in self.decay:
            out["l1"] = dict(self.decay["l1"])
        if self.member:
            out["member"] = self.member
        return out

    def _reproduce_key(self):
        return {"name": self.name, "recipe": self.recipe.key_dict(), "variant": self.variant(),
                "settings": dict(self.settings), "data": self.data,
                "data_sha256": self.data_sha256, "seed": self.seed, "dtype": self.dtype,
                "two_stage": self.stage2 is not None, "training_code": TRAINING_CODE}

    def _train_key(self):
        key = {"command": "train", "model": self.recipe.name,
               "model_spec": dict(self.recipe.model), "data": self.data,
               "data_sha256": self.data_sha256, "seed": self.seed, "dtype": self.dtype,
               "objective": self.objective.label(),
               "labels": self.labels, "second_stage": self.stage2,
               "training_code": TRAINING_CODE,
               "settings": {**self.settings, **self.decay, "monitor": self.monitor.kind,
                            "monitor_eps": self.monitor.eps}}
        if self.objective.adv_grad != "eval":
            key["adv_grad"] = self.objective.adv_grad
        if self.objective.clip is None:
            key["clip"] = None     # absent means [0, 1]: earlier clipped checkpoints stay valid
        return key
