"""What an FGSM-trained model resists: FGSM's variants on the plain and the
adversarially trained maxout. Not in the paper; advref's addition.

The paper measures its defence with FGSM, the attack it trains on. Two later
variants (advref.attacks.iterative) tell apart resisting perturbations of size
eps in general from resisting the one-step perturbation itself:

- the basic iterative method: 10 steps of eps / 4, each projected onto the eps
  L_inf ball around the image and onto the profile's box (Kurakin et al. 2017);
- R+FGSM: a random sign step of eps / 2, then FGSM of eps / 2 (Tramer et al.
  2018), its random signs drawn from the run's seed.

The rows carry no paper value. In the unclipped paper profile the clipped
values are added beside them, labelled, as for FGSM.
"""

from __future__ import annotations

from advref.analysis.metrics import evaluate
from advref.attacks.iterative import iterative_fgsm, random_step_fgsm
from advref.reproduce.experiments import BOX, EPS, attack_params, eval_clip

STEPS = 10
STEP_SIZE = EPS / 4
ALPHA = EPS / 2


def variant_examples(ctx, model, box):
    """{row suffix: (label, x_adv, settings)} of the two variants within box."""
    x, y = ctx.data.x_test, ctx.data.y_test
    return {
        "iterative": (f"iterative FGSM ({STEPS} steps of eps/4)",
                      iterative_fgsm(model, x, EPS, y=y, steps=STEPS, step_size=STEP_SIZE,
                                     clip=box),
                      {"steps": STEPS, "step_size": STEP_SIZE}),
        "rfgsm": ("R+FGSM (random step eps/2, then FGSM eps/2)",
                  random_step_fgsm(model, x, EPS, y=y, alpha=ALPHA, clip=box, rng=ctx.seed),
                  {"alpha": ALPHA, "seed": ctx.seed}),
    }


def one_step_defence(ctx):
    """The error of the plain and of the adversarially trained maxout under each variant."""
    boxes = [eval_clip(ctx)] + ([BOX] if eval_clip(ctx) is None else [])
    for name, label in (("maxout", "maxout 240x5"),
                        ("maxout-adv", "maxout, adversarially trained")):
        model = ctx.model(name)
        for box in boxes:
            clipped = box is not None and eval_clip(ctx) is None
            for suffix, (attack, x_adv, settings) in variant_examples(ctx, model, box).items():
                error = evaluate(model, x_adv, ctx.data.y_test)["error"]
                ctx.add(f"{name}-{suffix}{'-clipped' if clipped else ''}",
                        f"{label}, {attack}{' (clipped to [0, 1])' if clipped else ''}",
                        "error", None, error, model=name,
                        **attack_params(ctx, box if clipped else "profile"), **settings)


BEYOND_FGSM = (one_step_defence,)
