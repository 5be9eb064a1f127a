"""The experiments of paper-notes section 5 (MNIST), each adding rows to the context.

FGSM is always applied with the true labels, eps .25, L_inf, with the input
gradient of the attacked model in evaluation mode (no dropout). The shortened
profiles clip x_adv to [0, 1]; the paper profile does not (the paper's numbers
are unclipped) and adds the clipped values as extra rows labelled so.
"""

from __future__ import annotations

import numpy as np

from advref.analysis.metrics import evaluate
from advref.analysis.transferability import transfer
from advref.attacks.fast_gradient import fgsm
from advref.attacks.noise import random_sign
from advref.attacks.rubbish import rubbish_report, rubbish_samples
from advref.models import Ensemble

EPS = 0.25
ATTACK = {"eps": EPS, "norm": "inf", "clip": [0.0, 1.0], "labels": "true"}
BOX = [0.0, 1.0]


def eval_clip(ctx):
    """The profile's FGSM box: [0, 1] in the shortened profiles, none in the paper
    profile (the paper's numbers are unclipped: paper-notes section 1)."""
    return ctx.profile.get("eval_clip", BOX)


def attack_params(ctx, clip="profile"):
    return dict(ATTACK, clip=eval_clip(ctx) if clip == "profile" else clip)


def attacked(ctx, name, clip="profile"):
    """(clean evaluation, FGSM evaluation, x_adv) of a model on its test set."""
    data = ctx.data_for(name)
    model = ctx.model(name)
    box = eval_clip(ctx) if clip == "profile" else clip
    x_adv = fgsm(model, data.x_test, EPS, y=data.y_test, clip=box)
    return evaluate(model, data.x_test, data.y_test), evaluate(model, x_adv, data.y_test), x_adv


def add_clipped_rows(ctx, rows, **params):
    """In an unclipped profile, the same FGSM rows clipped to [0, 1], labelled, with
    no paper value (the paper does not clip); `params` are added to each row's."""
    if eval_clip(ctx) is not None:
        return
    for id, experiment, quantity, name, key in rows:
        _, adv, _ = attacked(ctx, name, clip=BOX)
        ctx.add(f"{id}-clipped", f"{experiment} (clipped to [0, 1])", quantity, None, adv[key],
                model=name, **params, **attack_params(ctx, BOX))


def fgsm_error_rates(ctx):
    clean, adv, _ = attacked(ctx, "softmax")
    ctx.add("softmax-clean", "softmax regression", "clean error", None, clean["error"],
            model="softmax")
    ctx.add("softmax-fgsm", "softmax regression, FGSM", "error", 0.999, adv["error"],
            model="softmax", **attack_params(ctx))
    ctx.add("softmax-fgsm-conf", "softmax regression, FGSM", "mean confidence", 0.793,
            adv["mean_confidence"], model="softmax", **attack_params(ctx))
    clean, adv, _ = attacked(ctx, "logistic")
    ctx.add("logistic-clean", "logistic regression 3 vs 7", "clean error", 0.016,
            clean["error"], model="logistic")
    ctx.add("logistic-fgsm", "logistic regression 3 vs 7, FGSM", "error", 0.99, adv["error"],
            model="logistic", **attack_params(ctx))
    clean, adv, _ = attacked(ctx, "maxout")
    ctx.add("maxout-clean", "maxout 240x5 (dropout)", "clean error", 0.0094, clean["error"],
            model="maxout")
    ctx.add("maxout-fgsm", "maxout 240x5, FGSM", "error", 0.894, adv["error"], model="maxout",
            **attack_params(ctx))
    ctx.add("maxout-fgsm-conf", "maxout 240x5, FGSM", "mean confidence", 0.976,
            adv["mean_confidence"], model="maxout", **attack_params(ctx))
    clean, adv, _ = attacked(ctx, "rbf")
    ctx.add("rbf-fgsm", "shallow RBF, FGSM", "error", 0.554, adv["error"], model="rbf",
            **attack_params(ctx))
    ctx.add("rbf-fgsm-conf", "shallow RBF, FGSM", "confidence on mistakes", 0.012,
            adv["mean_confidence_on_mistakes"], model="rbf", **attack_params(ctx))
    ctx.add("rbf-clean-conf", "shallow RBF", "clean mean confidence", 0.606,
            clean["mean_confidence"], model="rbf")
    add_clipped_rows(ctx, [
        ("softmax-fgsm", "softmax regression, FGSM", "error", "softmax", "error"),
        ("logistic-fgsm", "logistic regression 3 vs 7, FGSM", "error", "logistic", "error"),
        ("maxout-fgsm", "maxout 240x5, FGSM", "error", "maxout", "error"),
        ("rbf-fgsm", "shallow RBF, FGSM", "error", "rbf", "error")])


def adversarial_training(ctx):
    clean, _, _ = attacked(ctx, "maxout")
    adv_clean, adv, _ = attacked(ctx, "maxout-adv")
    how = {"adv_grad": ctx.profile["adv_grad"]}     # how training made x_adv
    ctx.add("advtrain-clean", "maxout, adversarially trained (alpha .5, eps .25)",
            "clean error", 0.0084, adv_clean["error"], model="maxout-adv",
            baseline_clean_error=clean["error"], **how)
    ctx.add("advtrain-fgsm", "maxout, adversarially trained, FGSM", "error", 0.179,
            adv["error"], model="maxout-adv", **how, **attack_params(ctx))
    ctx.add("advtrain-fgsm-conf", "maxout, adversarially trained, FGSM",
            "confidence on mistakes", 0.814, adv["mean_confidence_on_mistakes"],
            model="maxout-adv", **how, **attack_params(ctx))
    for name, paper in (("maxout-sign-noise", (0.862, 0.973)),
                        ("maxout-uniform-noise", (0.904, 0.978))):
        _, adv, _ = attacked(ctx, name)
        ctx.add(f"{name}-fgsm", f"{name} (control), FGSM", "error", paper[0], adv["error"],
                model=name, **attack_params(ctx))
        ctx.add(f"{name}-fgsm-conf", f"{name} (control), FGSM", "mean confidence", paper[1],
                adv["mean_confidence"], model=name, **attack_params(ctx))
    add_clipped_rows(ctx, [
        ("advtrain-fgsm", "maxout, adversarially trained, FGSM", "error", "maxout-adv",
         "error"),
        ("maxout-sign-noise-fgsm", "maxout-sign-noise (control), FGSM", "error",
         "maxout-sign-noise", "error"),
        ("maxout-uniform-noise-fgsm", "maxout-uniform-noise (control), FGSM", "error",
         "maxout-uniform-noise", "error")])
    model, (x, y, _, _) = ctx.model("maxout-l1"), ctx.data.split(10_000)
    ctx.add("l1-train-error", "maxout with L1 .0025 on layer 0 (instead of adv. training)",
            "training error", 0.05, float(np.mean(model.predict(x) != y)), model="maxout-l1",
            note="paper: stuck above 5%")


def transfer_both_ways(ctx, plain_name, adv_name, id, label):
    """The paper's transfer pair: the adversarially trained model's error on the plain
    model's FGSM examples (paper 19.6%), and the reverse (40.9%); returns the plain."""
    data, clip = ctx.data, eval_clip(ctx)
    plain, adv = ctx.model(plain_name), ctx.model(adv_name)
    out = transfer(plain, {"adv": adv}, data.x_test, data.y_test, EPS, clip=clip)
    ctx.add(f"{id}-orig-to-adv", f"transfer {label} -> adv.-trained {label}", "error", 0.196,
            out["targets"]["adv"]["error"], source=plain_name, target=adv_name,
            **attack_params(ctx))
    out = transfer(adv, {"plain": plain}, data.x_test, data.y_test, EPS, clip=clip)
    ctx.add(f"{id}-adv-to-orig", f"transfer adv.-trained {label} -> {label}", "error", 0.409,
            out["targets"]["plain"]["error"], source=adv_name, target=plain_name,
            **attack_params(ctx))
    return plain


def transfer_between(ctx):
    data, clip = ctx.data, eval_clip(ctx)
    plain = transfer_both_ways(ctx, "maxout", "maxout-adv", "transfer", "maxout")
    targets = {n: ctx.model(n) for n in ("rbf", "softmax", "relu", "tanh")}
    out = transfer(plain, targets, data.x_test, data.y_test, EPS, clip=clip)
    t = out["targets"]
    for name, paper in (("relu", 0.994), ("tanh", 0.993), ("softmax", 0.889), ("rbf", 0.368)):
        ctx.add(f"lecture-maxout-to-{name}", f"lecture: transfer maxout -> {name}", "error",
                paper, t[name]["error"], source="maxout", target=name, **attack_params(ctx))
    for name, mistakes, both in (("rbf", 0.160, 0.543), ("softmax", 0.546, 0.846)):
        ctx.add(f"agree-{name}-mistakes", f"{name} predicts maxout's class",
                "on maxout's mistakes", mistakes, t[name]["same_class_on_source_mistakes"],
                source="maxout", target=name, **attack_params(ctx))
        ctx.add(f"agree-{name}-both", f"{name} predicts maxout's class",
                "on examples both get wrong", both, t[name]["same_class_on_both_wrong"],
                source="maxout", target=name, **attack_params(ctx))
    out = transfer(ctx.model("softmax"), {"rbf": targets["rbf"]}, data.x_test, data.y_test,
                   EPS, clip=clip)
    ctx.add("agree-rbf-softmax", "RBF predicts softmax's class", "on examples both get wrong",
            0.536, out["targets"]["rbf"]["same_class_on_both_wrong"], source="softmax",
            target="rbf", **attack_params(ctx))
    nearest_neighbour_transfer(ctx, plain)


def nearest_neighbour_transfer(ctx, source):
    """1-NN on the training set (non-differentiable) on the maxout's FGSM examples."""
    data = ctx.data
    n = ctx.profile["n_transfer_nn"] or len(data.x_test)
    x, y = data.x_test[:n], data.y_test[:n]
    x_adv = fgsm(source, x, EPS, y=y, clip=eval_clip(ctx))
    train, labels = data.x_train, data.y_train
    sq = (train * train).sum(axis=1)
    pred = np.concatenate([labels[np.argmin(sq[None, :] - 2 * (chunk @ train.T), axis=1)]
                           for chunk in np.array_split(x_adv, max(1, len(x_adv) // 500))])
    ctx.add("lecture-maxout-to-nn", "lecture: transfer maxout -> nearest neighbour", "error",
            0.253, np.mean(pred != y), source="maxout", target="1-NN (L2, training set)", n=n,
            **attack_params(ctx))


def gaussian_rubbish(ctx):
    """(samples, row parameters): the profile's N(0, I) rubbish samples."""
    n = ctx.profile["n_rubbish"]
    samples = rubbish_samples(n, source="standard-normal", x_train=ctx.data.x_train,
                              rng=ctx.seed)
    return samples, {"source": "N(0, I)", "n": n, "seed": ctx.seed, "threshold": 0.5}


def rubbish(ctx):
    samples, params = gaussian_rubbish(ctx)
    r = rubbish_report(ctx.model("maxout"), samples)
    ctx.add("rubbish-maxout", "rubbish N(0, I), maxout", "any class p > .5", 0.9835,
            r["fooled_rate"], model="maxout", **params)
    ctx.add("rubbish-maxout-conf", "rubbish N(0, I), maxout", "mean confidence", 0.928,
            r["mean_confidence_fooled"], model="maxout", **params)
    hist = np.array(r["class_histogram"]) / max(sum(r["class_histogram"]), 1)
    ctx.add("rubbish-maxout-5", "rubbish N(0, I), maxout", "share labelled 5", 0.453, hist[5],
            model="maxout", **params)
    ctx.add("rubbish-maxout-8", "rubbish N(0, I), maxout", "share labelled 8", 0.0, hist[8],
            model="maxout", **params)
    for name, paper in (("softmax", (0.598, 0.708)), ("rbf", (0.0, None))):
        r = rubbish_report(ctx.model(name), samples)
        ctx.add(f"rubbish-{name}", f"rubbish N(0, I), {name}", "any class p > .5", paper[0],
                r["fooled_rate"], model=name, **params)
        if paper[1] is not None:
            ctx.add(f"rubbish-{name}-conf", f"rubbish N(0, I), {name}", "mean confidence",
                    paper[1], r["mean_confidence_fooled"], model=name, **params)


def rubbish_sigmoid(ctx):
    """The paper's maxout with independent sigmoid outputs on N(0, I) rubbish."""
    samples, params = gaussian_rubbish(ctx)
    r = rubbish_report(ctx.model("maxout-sigmoid"), samples)
    ctx.add("rubbish-maxout-sigmoid", "rubbish N(0, I), maxout with independent sigmoids",
            "any class p > .5", 0.68, r["fooled_rate"], model="maxout-sigmoid", **params)
    ctx.add("rubbish-maxout-sigmoid-conf", "rubbish N(0, I), maxout with independent sigmoids",
            "mean confidence", 0.879, r["mean_confidence_fooled"], model="maxout-sigmoid",
            **params)


def ensemble_members(profile):
    """The ensemble's maxout nets: the recipe's model and members trained from the next
    seeds (the paper: 12)."""
    return ["maxout"] + [f"maxout-member{i}" for i in range(1, profile["ensemble_members"])]


def ensemble(ctx):
    """FGSM on an ensemble of maxout nets (averaged probabilities), and the ensemble's
    error on FGSM examples made against one member."""
    names = ensemble_members(ctx.profile)
    members = [ctx.model(n) for n in names]
    ens = Ensemble(members)
    data, clip = ctx.data, eval_clip(ctx)
    x, y = data.x_test, data.y_test
    on_ensemble = fgsm(ens, x, EPS, y=y, clip=clip)
    on_one = fgsm(members[0], x, EPS, y=y, clip=clip)
    params = dict(attack_params(ctx), members=len(names),
                  note="paper: 12 members" if len(names) != 12 else "")
    ctx.add("ensemble-fgsm", f"ensemble of {len(names)} maxout nets, FGSM on the ensemble",
            "error", 0.911, evaluate(ens, on_ensemble, y)["error"], models=names, **params)
    ctx.add("ensemble-fgsm-one", f"ensemble of {len(names)} maxout nets, FGSM on one member",
            "error of the ensemble", 0.879, evaluate(ens, on_one, y)["error"], models=names,
            **params)


def random_noise_control(ctx):
    model, data = ctx.model("maxout"), ctx.data
    noisy = random_sign(data.x_test, EPS, ctx.seed)
    ctx.add("maxout-random-sign", "maxout, random +-eps sign noise (control)", "error", None,
            evaluate(model, noisy, data.y_test)["error"], model="maxout", eps=EPS,
            clip=[0.0, 1.0], seed=ctx.seed)


EXPERIMENTS = (fgsm_error_rates, adversarial_training, transfer_between, rubbish,
               rubbish_sigmoid, ensemble, random_noise_control)
