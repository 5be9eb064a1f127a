"""The eval-gradient variant of adversarial training, beside the paper profile's own.

The paper profile makes each training x_adv from the training loss with a dropout
mask of its own (adv_grad "train", the reproduction's hypothesis of the paper's
runs: docs/results-paper.md). The variant `maxout-adv-eval` is the same recipe
with x_adv from the evaluation-mode gradient, as the shortened profiles and the
earlier paper-profile runs trained it. Its rows carry no paper value: the paper
reports one adversarially trained model, and which gradient it used is the
question these rows measure. Profiles that train with "eval" already have no
variant to compare (jobs.available leaves the experiment out).
"""

from __future__ import annotations

from advref.reproduce.experiments import add_clipped_rows, attack_params, attacked

NAME = "maxout-adv-eval"
LABEL = "maxout, adversarially trained, x_adv from the eval-mode gradient (variant)"


def adv_grad_eval(ctx):
    clean, adv, _ = attacked(ctx, NAME)
    ctx.add("advtrain-evalgrad-clean", LABEL, "clean error", None, clean["error"], model=NAME,
            adv_grad="eval")
    ctx.add("advtrain-evalgrad-fgsm", f"{LABEL}, FGSM", "error", None, adv["error"],
            model=NAME, adv_grad="eval", **attack_params(ctx))
    ctx.add("advtrain-evalgrad-fgsm-conf", f"{LABEL}, FGSM", "confidence on mistakes", None,
            adv["mean_confidence_on_mistakes"], model=NAME, adv_grad="eval",
            **attack_params(ctx))
    add_clipped_rows(ctx, [("advtrain-evalgrad-fgsm", f"{LABEL}, FGSM", "error", NAME,
                            "error")], adv_grad="eval")


ADV_GRAD_VARIANT = (adv_grad_eval,)
