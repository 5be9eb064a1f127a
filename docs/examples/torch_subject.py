"""A PyTorch subject for `advref vectors --check DIR --impl torch_subject:SUBJECT`.

A sketch for the linear and MLP cases (SoftmaxRegression, LogisticRegression,
MLP); not a dependency of advref, and not run on advref's machines (no PyTorch
there). Put this folder on PYTHONPATH to use it.
"""

import numpy as np
import torch


def _scores(kind, config, w, x):
    if kind in ("SoftmaxRegression", "LogisticRegression"):
        return x @ w["W"] + w["b"]
    if kind == "MLP":
        act = torch.relu if config["activation"] == "relu" else torch.tanh
        h, layers = x, len(config["hidden"])
        for i in range(layers):
            h = act(h @ w[f"W{i}"] + w[f"b{i}"])
        return h @ w[f"W{layers}"] + w[f"b{layers}"]
    raise NotImplementedError(kind)


def _losses(kind, config, w, x, y):
    z = _scores(kind, config, w, x)
    if kind == "LogisticRegression":
        s = 2 * y.to(z.dtype) - 1
        return torch.nn.functional.softplus(-s * z[:, 0])
    return torch.nn.functional.cross_entropy(z, y, reduction="none")


class TorchSubject:
    def loss_grad(self, kind, config, weights, x, y):
        w = {k: torch.tensor(v, dtype=torch.float64) for k, v in weights.items()}
        xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        losses = _losses(kind, config, w, xt, torch.tensor(y))
        (g,) = torch.autograd.grad(losses.sum(), xt)
        return losses.detach().numpy(), g.numpy()

    def fgsm(self, kind, config, weights, x, y, eps, norm, targeted, clip):
        _, g = self.loss_grad(kind, config, weights, x, y)
        if norm == "inf":
            step = np.sign(g)
        elif norm == "2":
            top = np.abs(g).max(axis=1, keepdims=True)
            u = g / np.where(top > 0, top, 1)
            step = u / np.maximum(np.linalg.norm(u, axis=1, keepdims=True), 1e-300)
        else:
            a = np.abs(g)
            chosen = (a == a.max(axis=1, keepdims=True)) & (a > 0)
            step = np.sign(g) * chosen / np.maximum(chosen.sum(axis=1, keepdims=True), 1)
        x_adv = x - eps * step if targeted else x + eps * step
        return x_adv if clip is None else np.clip(x_adv, *clip)


SUBJECT = TorchSubject()
