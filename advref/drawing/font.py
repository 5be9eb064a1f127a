"""A 5x7 bitmap font for the labels of advref's pictures, and text drawn with it.

Each glyph is seven rows of five pixels, "#" on and "." off, written out below so
that a reader can see every character. Text is upper case (lower case is drawn as
upper case); a character without a glyph is refused by name. Characters are 5
pixels wide with one blank column between them, so n characters are 6n - 1
pixels wide and 7 high, before scaling.
"""

from __future__ import annotations

import numpy as np

WIDTH, HEIGHT, GAP = 5, 7, 1

_ROWS = (
    'A .###. #...# #...# ##### #...# #...# #...#',
    'B ####. #...# #...# ####. #...# #...# ####.',
    'C .###. #...# #.... #.... #.... #...# .###.',
    'D ####. #...# #...# #...# #...# #...# ####.',
    'E ##### #.... #.... ####. #.... #.... #####',
    'F ##### #.... #.... ####. #.... #.... #....',
    'G .###. #...# #.... #.### #...# #...# .####',
    'H #...# #...# #...# ##### #...# #...# #...#',
    'I .###. ..#.. ..#.. ..#.. ..#.. ..#.. .###.',
    'J ..### ...#. ...#. ...#. ...#. #..#. .##..',
    'K #...# #..#. #.#.. ##... #.#.. #..#. #...#',
    'L #.... #.... #.... #.... #.... #.... #####',
    'M #...# ##.## #.#.# #.#.# #...# #...# #...#',
    'N #...# #...# ##..# #.#.# #..## #...# #...#',
    'O .###. #...# #...# #...# #...# #...# .###.',
    'P ####. #...# #...# ####. #.... #.... #....',
    'Q .###. #...# #...# #...# #.#.# #..#. .##.#',
    'R ####. #...# #...# ####. #.#.. #..#. #...#',
    'S .#### #.... #.... .###. ....# ....# ####.',
    'T ##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#..',
    'U #...# #...# #...# #...# #...# #...# .###.',
    'V #...# #...# #...# #...# #...# .#.#. ..#..',
    'W #...# #...# #...# #.#.# #.#.# #.#.# .#.#.',
    'X #...# #...# .#.#. ..#.. .#.#. #...# #...#',
    'Y #...# #...# .#.#. ..#.. ..#.. ..#.. ..#..',
    'Z ##### ....# ...#. ..#.. .#... #.... #####',
    '0 .###. #...# #..## #.#.# ##..# #...# .###.',
    '1 ..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###.',
    '2 .###. #...# ....# ...#. ..#.. .#... #####',
    '3 ##### ...#. ..#.. ...#. ....# #...# .###.',
    '4 ...#. ..##. .#.#. #..#. ##### ...#. ...#.',
    '5 ##### #.... ####. ....# ....# #...# .###.',
    '6 ..##. .#... #.... ####. #...# #...# .###.',
    '7 ##### ....# ...#. ..#.. .#... .#... .#...',
    '8 .###. #...# #...# .###. #...# #...# .###.',
    '9 .###. #...# #...# .#### ....# ...#. .##..',
    '. ..... ..... ..... ..... ..... .##.. .##..',
    ', ..... ..... ..... ..... .##.. ..#.. .#...',
    ': ..... .##.. .##.. ..... .##.. .##.. .....',
    '% ##... ##..# ...#. ..#.. .#... #..## ...##',
    '( ...#. ..#.. .#... .#... .#... ..#.. ...#.',
    ') .#... ..#.. ...#. ...#. ...#. ..#.. .#...',
    '+ ..... ..#.. ..#.. ##### ..#.. ..#.. .....',
    '- ..... ..... ..... ##### ..... ..... .....',
    '= ..... ..... ##### ..... ##### ..... .....',
    '/ ..... ....# ...#. ..#.. .#... #.... .....',
    '_ ..... ..... ..... ..... ..... ..... #####',
    '[ .###. .#... .#... .#... .#... .#... .###.',
    '] .###. ...#. ...#. ...#. ...#. ...#. .###.',
    '< ...#. ..#.. .#... #.... .#... ..#.. ...#.',
    '> .#... ..#.. ...#. ....# ...#. ..#.. .#...',
)
GLYPHS = {line[0]: np.array([[c == "#" for c in row] for row in line[2:].split()])
          for line in _ROWS}
GLYPHS[" "] = np.zeros((HEIGHT, WIDTH), bool)


def text_mask(text: str, scale: int = 1) -> np.ndarray:
    """A boolean (7 scale, (6 len(text) - 1) scale) image of `text`, True where ink is."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__} instead.")
    if not isinstance(scale, int) or scale < 1:
        raise ValueError(f"scale must be an int >= 1, got {scale!r} instead.")
    text = text.upper()
    missing = sorted({c for c in text if c not in GLYPHS})
    if missing:
        raise ValueError(f"text may use {''.join(sorted(GLYPHS))!r}, got {text!r} with "
                         f"{''.join(missing)!r} instead.")
    if not text:
        return np.zeros((HEIGHT * scale, 0), bool)
    mask = np.zeros((HEIGHT, (WIDTH + GAP) * len(text) - GAP), bool)
    for i, c in enumerate(text):
        mask[:, i * (WIDTH + GAP):i * (WIDTH + GAP) + WIDTH] = GLYPHS[c]
    return np.kron(mask, np.ones((scale, scale), bool)).astype(bool)
