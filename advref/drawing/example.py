"""One adversarial example as a picture, like the paper's panda figure (its
Figure 1): the clean image, plus the perturbation, equals the adversarial image,
each with what the model says of it.

- The clean and adversarial images share one grey scale, black at the lower and
  white at the upper end of [min(0, lowest value), max(1, highest value)], so an
  unclipped example's values outside [0, 1] stay visible and comparable; the range
  is written under the images.
- The perturbation x_adv - x is drawn on a diverging scale: white at 0, pure red
  at +m and pure blue at -m, m its largest magnitude, with a colour bar (14
  pixels high, as wide as the image or 120 pixels, whichever is more) and its end
  values under it. FGSM's perturbation is +-eps everywhere it is not clipped,
  so it shows as red and blue only.
- Pixels are enlarged `scale` times, each a block of equal colour.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from advref.drawing.font import HEIGHT, text_mask

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import ArrayLike

    from advref.models.protocol import Classifier

WHITE, INK, FRAME = (255, 255, 255), (0, 0, 0), (128, 128, 128)
TEXT_SCALE, MARGIN, LINE, BAR, BAR_MIN_WIDTH = 2, 16, 2 * HEIGHT + 6, 14, 120


def image_shape(d: int, shape: Sequence[int] | None = None) -> tuple[int, int]:
    """The (rows, columns) an input of d values is drawn as: `shape`, or a square."""
    if shape is None:
        side = int(round(d ** 0.5))
        if side * side != d:
            raise ValueError(f"an input of {d} values is not a square image: pass shape "
                             f"(rows, columns) with rows * columns == {d}.")
        return side, side
    if len(shape) != 2 or int(np.prod(shape)) != d:
        raise ValueError(f"shape must be (rows, columns) with rows * columns == {d}, got "
                         f"{shape!r} instead.")
    rows, cols = (int(s) for s in shape)
    return rows, cols


def grey(values: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """uint8 RGB of values on a grey scale, black at lo and white at hi."""
    level = np.rint(255 * (values - lo) / (hi - lo)).astype(np.uint8)
    return np.repeat(level[..., None], 3, axis=-1)


def diverging(t: np.ndarray) -> np.ndarray:
    """uint8 RGB of t in [-1, 1]: blue (0, 0, 255) at -1, white at 0, red at +1."""
    fade = np.rint(255 * (1 - np.abs(t))).astype(np.uint8)
    full = np.full_like(fade, 255)
    return np.stack([np.where(t < 0, fade, full), fade, np.where(t > 0, fade, full)], -1)


def enlarge(rgb: np.ndarray, scale: int) -> np.ndarray:
    return np.repeat(np.repeat(rgb, scale, axis=0), scale, axis=1)


def paste_text(canvas: np.ndarray, lines: Sequence[str], top: int, left: int, width: int) -> None:
    """Write `lines` centred in the column [left, left + width) from row `top`."""
    for i, line in enumerate(lines):
        mask = text_mask(line, TEXT_SCALE)
        if mask.shape[1] > width:
            raise ValueError(f"the label {line!r} is wider than its panel ({mask.shape[1]} "
                             f"> {width} pixels).")
        y, x = top + i * LINE, left + (width - mask.shape[1]) // 2
        canvas[y:y + mask.shape[0], x:x + mask.shape[1]][mask] = INK


def example_picture(x: ArrayLike, x_adv: ArrayLike, *, predicted: int, confidence: float,
                    predicted_adv: int, confidence_adv: float, label: int | None = None,
                    shape: Sequence[int] | None = None, scale: int = 6) -> np.ndarray:
    """The (height, width, 3) uint8 picture of one example (see the module docstring).

    x, x_adv: the clean and adversarial inputs, 1-D, finite, of equal shape;
    predicted, confidence (and _adv): the model's class and its probability on each;
    label: the true class, written under the clean image when given."""
    x, x_adv = (np.asarray(a, dtype=np.float64) for a in (x, x_adv))
    if x.ndim != 1 or x.shape != x_adv.shape:
        raise ValueError(f"x and x_adv must be 1-D of one shape, got shapes {x.shape} and "
                         f"{x_adv.shape} instead.")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(x_adv))):
        raise ValueError("x and x_adv must be finite, got NaN or inf instead.")
    if not isinstance(scale, int) or not 1 <= scale <= 64:
        raise ValueError(f"scale must be an int in [1, 64], got {scale!r} instead.")
    rows, cols = image_shape(x.size, shape)
    lo, hi = min(0.0, x.min(), x_adv.min()), max(1.0, x.max(), x_adv.max())
    delta = x_adv - x
    m = float(np.max(np.abs(delta)))
    panels = [grey(x.reshape(rows, cols), lo, hi),
              diverging((delta / (m if m > 0 else 1.0)).reshape(rows, cols)),
              grey(x_adv.reshape(rows, cols), lo, hi)]
    side_h, side_w = rows * scale, cols * scale
    clean = ["CLEAN"] + ([f"LABEL {label}"] if label is not None else []) + [
        f"PREDICTED {predicted}", f"CONFIDENCE {confidence:.1%}"]
    adversarial = ["ADVERSARIAL", f"PREDICTED {predicted_adv}",
                   f"CONFIDENCE {confidence_adv:.1%}", f"GREY {lo:.3g} TO {hi:.3g}"]
    middle = [f"{-m + 0.0:.3g} TO {m:.3g}",          # + 0.0: no "-0" when m is 0
              f"L2 {np.linalg.norm(delta):.3g}"]
    longest = max(len(line) for line in clean + adversarial + middle)
    # each column as wide as its image, the colour bar or the longest label
    width = max(side_w, BAR_MIN_WIDTH, (6 * longest - 1) * TEXT_SCALE)
    gap = 3 * MARGIN
    canvas = np.full((MARGIN + side_h + LINE // 2 + 4 * LINE + MARGIN // 2,
                      2 * MARGIN + 3 * width + 2 * gap, 3), WHITE, np.uint8)
    lefts = [MARGIN + i * (width + gap) for i in range(3)]
    for panel, left in zip(panels, lefts, strict=True):
        x0 = left + (width - side_w) // 2
        canvas[MARGIN - 1:MARGIN + side_h + 1, x0 - 1:x0 + side_w + 1] = FRAME
        canvas[MARGIN:MARGIN + side_h, x0:x0 + side_w] = enlarge(panel, scale)
    for sign, left in (("+", lefts[0] + width), ("=", lefts[1] + width)):
        paste_text(canvas, [sign], MARGIN + side_h // 2 - HEIGHT, left, gap)
    below = MARGIN + side_h + LINE // 2
    paste_text(canvas, clean, below, lefts[0], width)
    paste_text(canvas, adversarial, below, lefts[2], width)
    paste_text(canvas, ["X_ADV - X"], below, lefts[1], width)
    bar_top = below + LINE
    bar_w = max(side_w, BAR_MIN_WIDTH)
    bar = diverging(np.linspace(-1.0, 1.0, bar_w))[None].repeat(BAR, axis=0)
    x0 = lefts[1] + (width - bar_w) // 2
    canvas[bar_top:bar_top + BAR, x0:x0 + bar_w] = bar
    paste_text(canvas, middle, bar_top + BAR + 6, lefts[1], width)
    return canvas


def plot_example(model: Classifier, x: ArrayLike, x_adv: ArrayLike, y: int | None = None, *,
                 shape: Sequence[int] | None = None, scale: int = 6) -> np.ndarray:
    """example_picture of x and x_adv with `model`'s predictions and confidences."""
    pair = np.stack([np.asarray(x), np.asarray(x_adv)])
    proba = model.predict_proba(pair.astype(getattr(model, "dtype", pair.dtype)))
    (p, q) = proba
    return example_picture(x, x_adv, predicted=int(p.argmax()), confidence=float(p.max()),
                           predicted_adv=int(q.argmax()), confidence_adv=float(q.max()),
                           label=None if y is None else int(y), shape=shape, scale=scale)
