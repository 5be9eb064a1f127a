"""A PyTorch subject for `advref vectors --check DIR --impl torch_subject:SUBJECT`,
written from PyTorch's own operations and autograd, as a PyTorch user would write
each quantity: every model kind of the vectors, every method of the protocol.

Not a dependency of advref, and not run by its tests or CI. Needs PyTorch (the CPU
wheel is enough); put this folder on PYTHONPATH. docs/auditing.md has the run and
classifies each failure. The choices that are PyTorch's, not advref's, on purpose:
- losses: F.cross_entropy, F.binary_cross_entropy_with_logits (logistic and the
  one-vs-rest sigmoids), F.binary_cross_entropy on p = exp(-q) for the RBF network
  (it clamps each log at -100), F.softplus (linear above 20) for the closed form;
- maxout: torch.max over the pieces (its backward routes a tie to the index max
  returns);
- the L2 step: F.normalize (divides by max(||g||, 1e-12));
- the L1 step: the whole budget on torch.argmax |g| (PyTorch has no L1 FGSM);
- VAT's KL: F.kl_div on log-probabilities, p held constant.
Everything runs in float64 (torch.float64 tensors from the float64 vectors).
"""

import numpy as np
import torch
import torch.nn.functional as F

F64 = torch.float64


def _t(a, grad=False):
    return torch.tensor(np.asarray(a), dtype=F64, requires_grad=grad)


def _scores(kind, config, w, x):
    if kind in ("SoftmaxRegression", "LogisticRegression"):
        return x @ w["W"] + w["b"]
    if kind == "RBFNetwork":
        q = ((x[:, None, :] - w["mu"][None]) ** 2 * w["gamma"][None] ** 2).sum(-1)
        return -q
    h, layers = x, len(config.get("hidden", config.get("units", ())))
    for i in range(layers):
        pre = h @ w[f"W{i}"] + w[f"b{i}"]
        if kind == "MaxoutMLP":          # columns r*units + j: piece r of unit j
            h = pre.reshape(len(x), config["pieces"], -1).max(dim=1).values
        else:
            h = torch.relu(pre) if config["activation"] == "relu" else torch.tanh(pre)
    return h @ w[f"W{layers}"] + w[f"b{layers}"]


def _losses(kind, config, w, x, y):
    """Each example's loss, from PyTorch's loss functions."""
    z = _scores(kind, config, w, x)
    if kind == "LogisticRegression":
        return F.binary_cross_entropy_with_logits(z[:, 0], y.to(F64), reduction="none")
    onehot = F.one_hot(y, z.shape[1]).to(F64)
    if kind == "RBFNetwork":
        return F.binary_cross_entropy(torch.exp(z), onehot, reduction="none").sum(1)
    if config.get("output", "softmax") == "sigmoid-ovr":
        return F.binary_cross_entropy_with_logits(z, onehot, reduction="none").sum(1)
    return F.cross_entropy(z, y, reduction="none")


def _input_gradient(kind, config, weights, x, y):
    w = {k: _t(v) for k, v in weights.items()}
    xt = _t(x, grad=True)
    losses = _losses(kind, config, w, xt, torch.tensor(np.asarray(y)))
    (g,) = torch.autograd.grad(losses.sum(), xt)
    return losses.detach(), g


def _step(g, eps, norm):
    if norm == "inf":
        return eps * g.sign()
    if norm == "2":
        return eps * F.normalize(g, dim=1)
    j = g.abs().argmax(dim=1)
    return eps * F.one_hot(j, g.shape[1]).to(F64) * g.sign()


def _clip(x, clip):
    return x if clip is None else x.clamp(*clip)


class TorchSubject:
    def loss_grad(self, kind, config, weights, x, y):
        losses, g = _input_gradient(kind, config, weights, x, y)
        return losses.numpy(), g.numpy()

    def param_gradients(self, kind, config, weights, x, y):
        w = {k: _t(v, grad=True) for k, v in weights.items()}
        loss = _losses(kind, config, w, _t(x), torch.tensor(np.asarray(y))).mean()
        grads = torch.autograd.grad(loss, list(w.values()))
        return {k: g.numpy() for k, g in zip(w, grads, strict=True)}

    def fgsm(self, kind, config, weights, x, y, eps, norm, targeted, clip):
        _, g = _input_gradient(kind, config, weights, x, y)
        step = _step(g, eps, norm)
        return _clip(_t(x) - step if targeted else _t(x) + step, clip).numpy()

    def iterative_fgsm(self, kind, config, weights, x, y, eps, steps, step_size, targeted,
                       clip):
        x0, x_adv = _t(x), _t(x)
        for _ in range(steps):
            _, g = _input_gradient(kind, config, weights, x_adv.numpy(), y)
            x_adv = x_adv - step_size * g.sign() if targeted else x_adv + step_size * g.sign()
            x_adv = _clip(torch.min(torch.max(x_adv, x0 - eps), x0 + eps), clip)
        return x_adv.numpy()

    def random_step_fgsm(self, kind, config, weights, x, y, eps, alpha, signs, targeted,
                         clip):
        start = _clip(_t(x) + alpha * _t(signs), clip)
        _, g = _input_gradient(kind, config, weights, start.numpy(), y)
        step = (eps - alpha) * g.sign()
        return _clip(start - step if targeted else start + step, clip).numpy()

    def vat(self, kind, config, weights, x, r):
        w = {k: _t(v, grad=True) for k, v in weights.items()}
        with torch.no_grad():
            p = F.softmax(_scores(kind, config, w, _t(x)), dim=1)
        log_q = F.log_softmax(_scores(kind, config, w, _t(x) + _t(r)), dim=1)
        kl = F.kl_div(log_q, p, reduction="none").sum(1)
        grads = torch.autograd.grad(kl.mean(), list(w.values()))
        return kl.detach().numpy(), {k: g.numpy() for k, g in zip(w, grads, strict=True)}

    def adversarial_logistic_loss(self, weights, x, y, eps):
        W, b = _t(weights["W"]), _t(weights["b"])
        s = 2 * torch.tensor(np.asarray(y), dtype=F64) - 1
        t = -s * (_t(x) @ W + b)[:, 0] + eps * W.abs().sum()
        return F.softplus(t).mean().item()

    def minimal_distance(self, weights, x, norm):
        w, b = _t(weights["W"])[:, 0], _t(weights["b"])[0]
        dual = {"2": 2, "inf": 1, "1": float("inf")}[norm]
        return ((_t(x) @ w + b).abs() / torch.linalg.vector_norm(w, ord=dual)).numpy()


SUBJECT = TorchSubject()
