"""The paper's figures as PNG files, when matplotlib is installed (extra `plot`).

    fig2-logistic.png      logistic regression weights, their sign, clean and FGSM 3s/7s
    fig3-maxout-weights.png first-layer maxout weights, naive vs adversarially trained
    fig4-logit-path.png    the maxout's scores along the FGSM direction, with the images
    cross-section.png      the maxout's class map over the FGSM / random-orthogonal plane
    rubbish.png            N(0, I) rubbish samples with the maxout's class and confidence
"""

from __future__ import annotations

import numpy as np

from advref.analysis.geometry import cross_section, fgsm_plane, logit_path
from advref.attacks.fast_gradient import fgsm
from advref.attacks.rubbish import rubbish_samples


def available():
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def make_figures(ctx, folder):
    """Write every figure into `folder`; returns {name: file name}."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    done = {}
    for name, draw in (("fig2-logistic.png", logistic_figure),
                       ("fig3-maxout-weights.png", maxout_weights_figure),
                       ("fig4-logit-path.png", logit_path_figure),
                       ("cross-section.png", cross_section_figure),
                       ("rubbish.png", rubbish_figure)):
        fig = draw(ctx, plt)
        fig.savefig(folder / name, dpi=80, bbox_inches="tight")
        plt.close(fig)
        done[name.split(".")[0]] = name
    return done


def image(ax, x, title=None, cmap="gray", **kw):
    ax.imshow(np.asarray(x).reshape(28, 28), cmap=cmap, **kw)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=8)


def logistic_figure(ctx, plt):
    model, data = ctx.model("logistic"), ctx.binary
    x, y = data.x_test[:8], data.y_test[:8]
    x_adv = fgsm(model, x, 0.25, y=y)
    fig, axes = plt.subplots(3, 8, figsize=(10, 4))
    image(axes[0, 0], model.w, "weights w", cmap="RdBu")
    image(axes[0, 1], np.sign(model.w), "sign(w)", cmap="RdBu")
    for ax in axes[0, 2:]:
        ax.axis("off")
    pred, pred_adv = model.predict(x), model.predict(x_adv)
    for i in range(8):
        image(axes[1, i], x[i], f"clean: {'7' if pred[i] else '3'}")
        image(axes[2, i], x_adv[i], f"FGSM: {'7' if pred_adv[i] else '3'}")
    fig.suptitle("Logistic regression 3 vs 7, eps .25 (cf. paper Fig. 2)")
    return fig


def maxout_weights_figure(ctx, plt):
    fig, axes = plt.subplots(2, 12, figsize=(12, 2.4))
    for row, name in enumerate(("maxout", "maxout-adv")):
        W = ctx.model(name).params["W0"]
        for j in range(12):
            image(axes[row, j], W[:, j], name if j == 0 else None, cmap="RdBu")
    fig.suptitle("First-layer maxout weights: naive (top) vs adversarially trained (cf. Fig. 3)")
    return fig


def logit_path_figure(ctx, plt):
    model, data = ctx.model("maxout"), ctx.data
    x, y = data.x_test[:1], data.y_test[:1]
    direction = np.sign(fgsm(model, x, 1.0, y=y, clip=None) - x)
    eps = np.linspace(-15, 15, 61)
    scores = logit_path(model, x, direction, eps)[:, 0, :]
    fig, (ax, strip) = plt.subplots(2, 1, figsize=(8, 5), gridspec_kw={"height_ratios": [3, 1]})
    for k in range(scores.shape[1]):
        ax.plot(eps, scores[:, k], label=str(k))
    ax.set_xlabel("eps along the FGSM direction (not clipped)")
    ax.set_ylabel("score")
    ax.legend(ncol=5, fontsize=7)
    shown = eps[::6]
    strip.imshow(np.hstack([(x[0] + e * direction[0]).reshape(28, 28) for e in shown]),
                 cmap="gray")
    strip.set_xticks(28 * np.arange(len(shown)) + 13.5, [f"{e:g}" for e in shown], fontsize=7)
    strip.set_yticks([])
    strip.set_xlabel("eps of each image")
    fig.suptitle(f"Maxout scores along x + eps*sign(grad) (true class {y[0]}; cf. Fig. 4)")
    return fig


def cross_section_figure(ctx, plt):
    model, data = ctx.model("maxout"), ctx.data
    d1, d2 = fgsm_plane(model, data.x_test[0], data.y_test[0], rng=ctx.seed)
    classes, grid = cross_section(model, data.x_test[0], d1, d2, extent=1.0, steps=81)
    fig, ax = plt.subplots(figsize=(5.5, 4.8), layout="constrained")
    shown = ax.imshow(classes, origin="lower", cmap="tab10", vmin=-0.5, vmax=9.5,
                      extent=[grid[0], grid[-1], grid[0], grid[-1]])
    fig.colorbar(shown, ax=ax, ticks=range(10), label="predicted class", shrink=0.85)
    ax.set_xlabel("eps along the FGSM direction")
    ax.set_ylabel("eps along a random orthogonal direction")
    fig.suptitle(f"Maxout class map around a test {data.y_test[0]} (not clipped)")
    return fig


def rubbish_figure(ctx, plt):
    model = ctx.model("maxout")
    samples = rubbish_samples(10, source="standard-normal", x_train=ctx.data.x_train,
                              rng=ctx.seed)
    proba = model.predict_proba(samples)
    fig, axes = plt.subplots(1, 10, figsize=(12, 1.8))
    for i, ax in enumerate(axes):
        k = int(proba[i].argmax())
        image(ax, samples[i], f"{k}: {proba[i, k]:.0%}")
    fig.suptitle("N(0, I) rubbish samples with the maxout's class and confidence")
    return fig
