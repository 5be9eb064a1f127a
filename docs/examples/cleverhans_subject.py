"""A CleverHans 4 (PyTorch) subject for `advref vectors --check DIR --impl
cleverhans_subject:SUBJECT`: its fast_gradient_method (L_inf, L2, L1) and, for the
basic iterative method, projected_gradient_descent without a random start.

Not a dependency of advref, and not run by its tests or CI. Needs PyTorch and
`pip install --no-deps cleverhans==4.0.0` (its PyTorch attacks import nothing
else); put this folder on PYTHONPATH. docs/auditing.md has the run.

- SUBJECT: CleverHans as shipped. fast_gradient_method casts x to float32
  (`.to(torch.float)`), so the model is given float32 weights, as a user's would be.
- SUBJECT64: the same functions with that cast removed (their source, recompiled
  without it), on float64 weights.

CleverHans attacks the mean cross-entropy of the logits, so only softmax models
are attacked as they are trained; logistic regression is given the logits
(0, z), whose cross-entropy is its loss softplus(-s z). The one-vs-rest and RBF
models raise NotImplementedError (the checker reports them as skipped).
"""

import inspect

import numpy as np
import torch
from cleverhans.torch.attacks import fast_gradient_method as fgm_module
from cleverhans.torch.attacks import projected_gradient_descent as pgd_module
from torch_subject import _scores

NORMS = {"inf": np.inf, "2": 2, "1": 1}


def _without_float32_cast(function, module):
    """`function` recompiled from its source without `.to(torch.float)`."""
    source = inspect.getsource(function).replace(".to(torch.float)", "")
    namespace = dict(vars(module))
    exec(compile(source, inspect.getsourcefile(function), "exec"), namespace)
    return namespace[function.__name__]


def _model_fn(kind, config, weights, dtype):
    if kind not in ("SoftmaxRegression", "LogisticRegression", "MLP", "MaxoutMLP"):
        raise NotImplementedError(f"{kind}: CleverHans attacks the cross-entropy of softmax "
                                  "logits, not this model's loss")
    if config.get("output", "softmax") != "softmax":
        raise NotImplementedError(f"{kind} with output {config['output']}: CleverHans "
                                  "attacks the cross-entropy of softmax logits")
    w = {k: torch.tensor(v, dtype=dtype) for k, v in weights.items()}

    def model_fn(x):
        z = _scores(kind, config, w, x)
        return torch.cat([torch.zeros_like(z), z], 1) if kind == "LogisticRegression" else z
    return model_fn


class CleverHansSubject:
    def __init__(self, dtype):
        self.dtype = dtype
        if dtype == torch.float32:
            self._fgm = fgm_module.fast_gradient_method
            self._pgd = pgd_module.projected_gradient_descent
        else:
            self._fgm = _without_float32_cast(fgm_module.fast_gradient_method, fgm_module)
            pgd_module_copy = dict(vars(pgd_module), fast_gradient_method=self._fgm)
            source = inspect.getsource(pgd_module.projected_gradient_descent)
            exec(compile(source, inspect.getsourcefile(pgd_module), "exec"), pgd_module_copy)
            self._pgd = pgd_module_copy["projected_gradient_descent"]

    def _box(self, clip):
        return (None, None) if clip is None else clip

    def fgsm(self, kind, config, weights, x, y, eps, norm, targeted, clip):
        model_fn = _model_fn(kind, config, weights, self.dtype)
        low, high = self._box(clip)
        x_adv = self._fgm(model_fn, torch.tensor(x, dtype=self.dtype), eps, NORMS[norm],
                          clip_min=low, clip_max=high, y=torch.tensor(y), targeted=targeted)
        return x_adv.detach().numpy()

    def iterative_fgsm(self, kind, config, weights, x, y, eps, steps, step_size, targeted,
                       clip):
        model_fn = _model_fn(kind, config, weights, self.dtype)
        low, high = self._box(clip)
        x_adv = self._pgd(model_fn, torch.tensor(x, dtype=self.dtype), eps, step_size, steps,
                          np.inf, clip_min=low, clip_max=high, y=torch.tensor(y),
                          targeted=targeted, rand_init=False, sanity_checks=False)
        return x_adv.detach().numpy()


SUBJECT = CleverHansSubject(torch.float32)
SUBJECT64 = CleverHansSubject(torch.float64)
