"""The example picture: each panel found in it pixel for pixel, from colours worked
out by hand for a 2x2 image; the colour bar's ends; the labels' ink; refusals."""

import numpy as np
import pytest

from advref.drawing.example import example_picture, image_shape, plot_example
from advref.drawing.font import text_mask

RED, BLUE, WHITE = (255, 0, 0), (0, 0, 255), (255, 255, 255)


def block(colours, scale):
    """An enlarged 2x2 panel: each of the four colours a scale x scale block."""
    rgb = np.array(colours, np.uint8).reshape(2, 2, 3)
    return np.kron(rgb, np.ones((scale, scale, 1), np.uint8))


def find(picture, needle):
    """Every (row, column) where `needle` appears in `picture` exactly (brute force over
    windows whose channel sums match)."""
    h, w = needle.shape[:2]
    cums = np.pad(picture.astype(np.int64), ((1, 0), (1, 0), (0, 0))).cumsum(0).cumsum(1)
    sums = cums[h:, w:] - cums[:-h, w:] - cums[h:, :-w] + cums[:-h, :-w]
    target = needle.astype(np.int64).sum(axis=(0, 1))
    hits = []
    for r, c in zip(*np.nonzero(np.all(sums == target, axis=-1)), strict=True):
        if np.array_equal(picture[r:r + h, c:c + w], needle):
            hits.append((int(r), int(c)))
    return hits


def ink_of(picture):
    """The picture as 0/255 RGB: black where there is ink, white elsewhere."""
    black = np.all(picture == 0, axis=-1)
    return np.where(black[..., None], 0, 255).astype(np.uint8).repeat(3, axis=-1)


X = np.array([0.0, 0.5, 1.0, 0.25])
X_ADV = np.array([0.25, 0.25, 1.0, 0.0])         # delta: +.25, -.25, 0, -.25


def picture(x=X, x_adv=X_ADV, **kw):
    args = dict(predicted=7, confidence=0.991, predicted_adv=3, confidence_adv=0.5,
                label=7, scale=3)
    return example_picture(x, x_adv, **dict(args, **kw))


def test_the_three_panels_are_the_hand_computed_colours_left_to_right():
    pic = picture()
    g = lambda v: (v, v, v)                                  # noqa: E731
    # grey scale [0, 1]: 0 -> 0, .5 -> rint(127.5) = 128, 1 -> 255, .25 -> 64
    clean = find(pic, block([g(0), g(128), g(255), g(64)], 3))
    delta = find(pic, block([RED, BLUE, WHITE, BLUE], 3))    # delta / .25 = +1, -1, 0, -1
    adv = find(pic, block([g(64), g(64), g(255), g(0)], 3))
    assert len(clean) == len(delta) == len(adv) == 1
    assert clean[0][0] == delta[0][0] == adv[0][0]           # one row of panels
    assert clean[0][1] < delta[0][1] < adv[0][1]


def test_unclipped_values_widen_the_shared_grey_scale():
    """x_adv up to 1.25: the grey scale runs from 0 to 1.25, so 1 is rint(204) = 204."""
    x_adv = np.array([0.25, 0.25, 1.25, 0.0])
    pic = picture(x_adv=x_adv)
    g = lambda v: (v, v, v)                                  # noqa: E731
    assert len(find(pic, block([g(0), g(102), g(204), g(51)], 3))) == 1
    assert len(find(pic, block([g(51), g(51), g(255), g(0)], 3))) == 1
    assert len(find(ink_of(pic), ink_of(np.where(text_mask("GREY 0 TO 1.25", 2)[..., None],
                                                 0, 255).astype(np.uint8)))) == 1


def test_the_colour_bar_runs_from_pure_blue_through_white_to_pure_red():
    """120 columns (the least width) of t = -1 + 2 j / 119, each 14 pixels high:
    blue (255 (1 + t), 255 (1 + t), 255) below 0, red (255, 255 (1 - t), 255 (1 - t))
    above; the specification computed here in exact fractions, then rounded."""
    from fractions import Fraction
    colours = []
    for j in range(120):
        t = Fraction(-1) + Fraction(2 * j, 119)
        fade = int(round(255 * (1 - abs(t))))        # no exact .5 ties: 255 * k / 119
        colours.append((fade, fade, 255) if t < 0 else (255, fade, fade))
    bar = np.array(colours, np.uint8)[None].repeat(14, axis=0)
    assert colours[0] == BLUE and colours[-1] == RED
    assert len(find(picture(), bar)) == 1


@pytest.mark.parametrize("line", ["CLEAN", "LABEL 7", "PREDICTED 7", "CONFIDENCE 99.1%",
                                  "ADVERSARIAL", "PREDICTED 3", "CONFIDENCE 50.0%",
                                  "X_ADV - X", "-0.25 TO 0.25", "L2 0.433"])
def test_every_label_is_written_once(line):
    ink = np.where(text_mask(line, 2)[..., None], 0, 255).astype(np.uint8).repeat(3, -1)
    framed = np.pad(ink, ((1, 1), (1, 1), (0, 0)), constant_values=255)   # whole words only
    assert len(find(ink_of(picture()), framed)) == 1


def test_a_model_supplies_the_classes_and_confidences():
    class Fixed:
        dtype = np.float64

        def predict_proba(self, x):
            return np.array([[0.1, 0.9], [0.8, 0.2]])[:len(x)]
    want = example_picture(X, X_ADV, predicted=1, confidence=0.9, predicted_adv=0,
                           confidence_adv=0.8, label=1)
    assert np.array_equal(plot_example(Fixed(), X, X_ADV, 1), want)


def test_shapes():
    assert image_shape(784) == (28, 28)
    assert image_shape(6, (2, 3)) == (2, 3)
    with pytest.raises(ValueError, match="not a square image"):
        image_shape(6)
    with pytest.raises(ValueError, match=r"got \(4, 4\)"):
        image_shape(6, (4, 4))


@pytest.mark.parametrize("kw,words", [
    ({"x_adv": X_ADV[:3]}, "1-D of one shape"),
    ({"x": X.reshape(2, 2)}, "1-D of one shape"),
    ({"x_adv": np.array([0.0, np.nan, 0.0, 0.0])}, "finite"),
    ({"scale": 0}, "scale must be an int in [1, 64]"),
])
def test_bad_input_is_refused_by_name(kw, words):
    with pytest.raises(ValueError) as info:
        picture(**kw)
    assert words in str(info.value)
