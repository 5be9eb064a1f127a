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
                                  "X_ADV - X", "-0.25 TO 0.25", "L2 0.433", "GREY 0 TO 1"])
def test_every_label_is_written_once(line):
    ink = np.where(text_mask(line, 2)[..., None], 0, 255).astype(np.uint8).repeat(3, -1)
    # whole lines only: a space's width (12 pixels at scale 2) of white on each side
    framed = np.pad(ink, ((2, 2), (12, 12), (0, 0)), constant_values=255)
    assert len(find(ink_of(picture()), framed)) == 1


def frames(pic):
    """(top, left, bottom, right) of each 1-pixel FRAME-grey rectangle around a panel,
    found from its top-left corner: a grey run right and down."""
    grey = np.all(pic == 128, axis=-1)
    found = []
    for r, c in zip(*np.nonzero(grey), strict=True):
        if (r == 0 or not grey[r - 1, c]) and (c == 0 or not grey[r, c - 1]):
            right = c + np.argmin(grey[r, c:]) - 1
            bottom = r + np.argmin(grey[r:, c]) - 1
            if right - c > 2 and bottom - r > 2 and grey[r:bottom + 1, right].all() \
                    and grey[bottom, c:right + 1].all():
                found.append((int(r), int(c), int(bottom), int(right)))
    return found


def test_each_panel_sits_in_a_one_pixel_grey_frame_spaced_evenly_and_centred():
    pic = picture(scale=4)
    boxes = frames(pic)
    assert len(boxes) == 3
    panels = [find(pic, block(c, 4))[0] for c in (
        [(0, 0, 0), (128, 128, 128), (255, 255, 255), (64, 64, 64)],
        [RED, BLUE, WHITE, BLUE],
        [(64, 64, 64), (64, 64, 64), (255, 255, 255), (0, 0, 0)])]
    for (top, left, bottom, right), (r, c) in zip(boxes, panels, strict=True):
        assert (top, left, bottom, right) == (r - 1, c - 1, r + 8, c + 8)   # 8 = 2 x 4
    lefts = [b[1] for b in boxes]
    assert lefts[1] - lefts[0] == lefts[2] - lefts[1]                  # evenly spaced
    ink = np.nonzero(~np.all(pic == 255, axis=-1))[1]
    assert ink.min() == pic.shape[1] - 1 - ink.max()                   # centred left-right


@pytest.mark.parametrize("sign,between", [("+", (0, 1)), ("=", (1, 2))])
def test_the_plus_and_equals_signs_sit_midway_between_their_panels(sign, between):
    pic = picture(scale=10)
    boxes = frames(pic)
    mask = text_mask(sign, 2)
    ink = np.where(mask[..., None], 0, 255).astype(np.uint8).repeat(3, -1)
    [(r, c)] = find(ink_of(pic), np.pad(ink, ((1, 1), (1, 1), (0, 0)),
                                          constant_values=255))
    a, b = boxes[between[0]], boxes[between[1]]
    middle = (a[3] + b[1]) / 2                         # halfway from one frame to the next
    assert abs((c + 1 + (mask.shape[1] - 1) / 2) - middle) <= 6       # a column's rounding
    assert abs((r + 1 + (mask.shape[0] - 1) / 2) - (a[0] + a[2]) / 2) <= 1


def test_the_colour_bar_is_centred_under_the_perturbation():
    pic = picture(scale=30)                              # a 60-pixel image: bar 120 wide
    boxes = frames(pic)
    blue = np.all(pic == BLUE, axis=-1)
    rows = np.nonzero(blue.sum(axis=1) == 1)[0]          # the bar's rows: one pure-blue end
    r = rows[0]
    start = int(np.nonzero(blue[r])[0][0])
    assert start + 120 / 2 - 0.5 == (boxes[1][1] + boxes[1][3]) / 2


def test_negative_values_move_the_grey_scales_black_end():
    """x_adv down to -.5: black is -.5 and white 1, so 0 is rint(255 * .5 / 1.5) = 85,
    .25 is rint(255 * .75 / 1.5) = 128 (127.5 rounds to even), 1 is 255."""
    x_adv = np.array([-0.5, 0.25, 1.0, 0.0])
    pic = picture(x_adv=x_adv)
    g = lambda v: (v, v, v)                                  # noqa: E731
    assert len(find(pic, block([g(85), g(170), g(255), g(128)], 3))) == 1   # x
    assert len(find(pic, block([g(0), g(128), g(255), g(85)], 3))) == 1     # x_adv


def test_a_model_supplies_the_classes_and_confidences_in_its_dtype():
    class Fixed:
        dtype = np.float32

        def predict_proba(self, x):
            assert x.dtype == np.float32 and x.shape == (2, 6)
            return np.array([[0.1, 0.9], [0.8, 0.2]])
    x, x_adv = np.arange(6) / 5, np.arange(6)[::-1] / 5
    want = example_picture(x, x_adv, predicted=1, confidence=0.9, predicted_adv=0,
                           confidence_adv=0.8, label=1, shape=(2, 3), scale=2)
    assert np.array_equal(plot_example(Fixed(), x, x_adv, 1, shape=(2, 3), scale=2), want)
    unlabelled = plot_example(Fixed(), x, x_adv, shape=(2, 3), scale=2)
    assert not np.array_equal(unlabelled, want)           # no "LABEL 1" line


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
    ({"scale": 65}, "scale must be an int in [1, 64]"),
    ({"x_adv": np.array([0.0, np.inf, 0.0, 0.0])},
     "x and x_adv must be finite, got NaN or inf instead."),
])
def test_bad_input_is_refused_by_name(kw, words):
    with pytest.raises(ValueError) as info:
        picture(**kw)
    assert words in str(info.value)
    if words.startswith("x and x_adv must be finite"):
        assert str(info.value) == words


def test_long_labels_widen_their_columns_instead_of_failing():
    """A far-out unclipped example: 'GREY -1.23E+03 TO 1.23E+03' is 26 characters,
    wider than an image column; every column widens to hold it, and the line is
    written whole."""
    x_adv = np.array([-1234.0, 0.25, 1234.0, 0.0])
    pic = picture(x_adv=x_adv)
    line = "GREY -1.23E+03 TO 1.23E+03"
    ink = np.where(text_mask(line, 2)[..., None], 0, 255).astype(np.uint8).repeat(3, -1)
    assert len(find(ink_of(pic), np.pad(ink, ((2, 2), (12, 12), (0, 0)),
                                        constant_values=255))) == 1
    boxes = frames(pic)
    assert boxes[1][1] - boxes[0][1] == (6 * len(line) - 1) * 2 + 3 * 16


def test_the_grey_scale_spans_zero_to_one_at_least_and_every_value_of_both():
    """Inside [0, 1] the scale is still 0..1; a clean value below 0 or above 1 (not
    only an adversarial one) widens it."""
    g = lambda v: (v, v, v)                                  # noqa: E731
    pic = picture(x=np.array([0.2, 0.4, 0.6, 0.8]), x_adv=np.array([0.3, 0.3, 0.7, 0.7]))
    assert len(find(pic, block([g(51), g(102), g(153), g(204)], 3))) == 1     # 255 v
    assert len(find(pic, block([g(76), g(76), g(178), g(178)], 3))) == 1
    pic = picture(x=np.array([-0.5, 0.25, 1.5, 0.0]), x_adv=np.array([0.0, 0.25, 1.0, 0.0]))
    # black at -.5, white at 1.5: v -> rint(255 (v + .5) / 2)
    assert len(find(pic, block([g(0), g(96), g(255), g(64)], 3))) == 1
    assert len(find(pic, block([g(64), g(96), g(191), g(64)], 3))) == 1


def test_no_perturbation_is_drawn_white():
    pic = picture(x_adv=X.copy())
    top, left, bottom, right = frames(pic)[1]
    assert np.all(pic[top + 1:bottom, left + 1:right] == 255)
    assert len(find(ink_of(pic), np.pad(
        np.where(text_mask("0 TO 0", 2)[..., None], 0, 255).astype(np.uint8).repeat(3, -1),
        ((2, 2), (12, 12), (0, 0)), constant_values=255))) == 1


def test_scale_one_and_sixty_four_are_drawn_and_six_is_the_default():
    for scale in (1, 64):
        assert len(frames(picture(scale=scale))) == 3
    default = example_picture(X, X_ADV, predicted=7, confidence=0.991, predicted_adv=3,
                              confidence_adv=0.5, label=7)
    g = lambda v: (v, v, v)                                  # noqa: E731
    assert len(find(default, block([g(0), g(128), g(255), g(64)], 6))) == 1
    top, left, bottom, right = frames(default)[0]
    assert (bottom - top, right - left) == (13, 13)          # 12 pixels and the frame


def test_a_wide_image_widens_its_column():
    """A 1 x 40 image at scale 6 is 240 pixels wide, wider than any label: the columns
    are 240 wide, so the frames do not overlap."""
    x = np.linspace(0, 1, 40)
    pic = picture(x=x, x_adv=x[::-1].copy(), shape=(1, 40), scale=6)
    boxes = frames(pic)
    assert [b[3] - b[1] for b in boxes] == [241] * 3
    assert boxes[1][1] - boxes[0][1] == 240 + 3 * 16


def test_the_margins_and_line_spacing():
    """Frames 15 pixels from the top; text lines 20 pixels apart, the first 10 below
    the frame; 14 white rows under the last line; the bar's numbers 20 below its top."""
    pic = picture(scale=10)
    top, left, bottom, right = frames(pic)[0]
    assert top == 15
    ink_rows = bottom + 1 + np.nonzero(np.all(pic[bottom + 1:, left:right + 1] == 0,
                                              axis=-1).any(axis=1))[0]
    starts = [r for r in ink_rows if r - 1 not in ink_rows]
    assert [s - bottom for s in starts] == [10, 30, 50, 70]     # 4 lines, with LABEL
    assert pic.shape[0] - 1 - ink_rows.max() == 14
    # the middle column: its title, the bar (20 high with its gap), then two numbers
    _, left, bottom, right = frames(pic)[1]
    ink = bottom + 1 + np.nonzero(np.all(pic[bottom + 1:, left:right + 1] == 0,
                                         axis=-1).any(axis=1))[0]
    assert [r - bottom for r in ink if r - 1 not in ink] == [10, 50, 70]


def test_an_unlabelled_example_writes_no_label_line():
    pic = example_picture(X, X_ADV, predicted=7, confidence=0.991, predicted_adv=3,
                          confidence_adv=0.5, scale=3)
    word = np.where(text_mask("LABEL", 2)[..., None], 0, 255).astype(np.uint8).repeat(3, -1)
    assert find(ink_of(pic), word) == []


def test_a_model_without_a_dtype_gets_the_inputs_dtype():
    class NoDtype:
        def predict_proba(self, x):
            assert x.dtype == np.float32
            return np.array([[0.1, 0.9], [0.8, 0.2]])
    x = X.astype(np.float32)
    plot_example(NoDtype(), x, X_ADV.astype(np.float32))


def test_a_label_wider_than_its_column_is_refused():
    from advref.drawing.example import paste_text
    canvas = np.full((40, 40, 3), 255, np.uint8)
    with pytest.raises(ValueError, match=r"the label 'TOO WIDE' is wider than its panel "
                                         r"\(94 > 40 pixels\)"):
        paste_text(canvas, ["TOO WIDE"], 0, 0, 40)
