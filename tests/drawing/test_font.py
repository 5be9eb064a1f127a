"""The 5x7 font: every glyph well formed and distinct, text laid out 6 pixels a
character, scaled by whole blocks, and unknown characters refused by name."""

import numpy as np
import pytest

from advref.drawing.font import GLYPHS, text_mask


def test_every_glyph_is_seven_rows_of_five_and_no_two_are_alike():
    shapes = {c: g.shape for c, g in GLYPHS.items()}
    assert set(shapes.values()) == {(7, 5)}
    seen = {}
    for c, g in GLYPHS.items():
        key = g.tobytes()
        assert key not in seen, f"{c!r} is drawn as {seen.get(key)!r}"
        seen[key] = c
    assert set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .%-+=:()_") <= set(GLYPHS)


def test_glyphs_drawn_by_hand_here():
    one = ["..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."]
    minus = [".....", ".....", ".....", "#####", ".....", ".....", "....."]
    for c, rows in (("1", one), ("-", minus)):
        assert np.array_equal(GLYPHS[c], np.array([[ch == "#" for ch in r] for r in rows]))
    assert not GLYPHS[" "].any()


def test_text_is_six_pixels_a_character_with_blank_gaps():
    mask = text_mask("H1-")
    assert mask.shape == (7, 17)
    assert not mask[:, 5].any() and not mask[:, 11].any()
    assert np.array_equal(mask[:, 6:11], GLYPHS["1"])
    assert np.array_equal(text_mask("ab"), text_mask("AB"))
    assert text_mask("").shape == (7, 0) and text_mask("", 2).shape == (14, 0)
    assert text_mask("").dtype == text_mask("AB", 3).dtype == bool


def test_scaling_makes_each_pixel_a_block():
    small, big = text_mask("7%"), text_mask("7%", 3)
    assert big.shape == (21, 33)
    for i in range(3):
        for j in range(3):
            assert np.array_equal(big[i::3, j::3], small)


@pytest.mark.parametrize("text,scale,error,words", [
    ("caf\u00e9", 1, ValueError, "'\u00c9'"),
    ("a|b", 1, ValueError, "'|'"),
    ("a|b{", 1, ValueError, "with '{|' instead"),
    (b"AB", 1, TypeError, "text must be a str, got bytes instead."),
    ("a~", 1, ValueError, "text may use ' %()+,-./0123456789:<=>ABCDEFGHIJKLMNOPQRSTUVWXYZ[]_',"
                          " got 'A~' with '~' instead."),
    ("AB", 0, ValueError, "scale must be an int >= 1"),
    ("AB", 1.5, ValueError, "scale must be an int >= 1"),
])
def test_what_the_font_cannot_draw_is_refused_by_name(text, scale, error, words):
    with pytest.raises(error) as info:
        text_mask(text, scale)
    assert words in str(info.value)
