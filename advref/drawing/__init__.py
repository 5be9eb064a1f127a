"""Pictures without plotting libraries: PNG files written with zlib, labels in a
5x7 bitmap font, and one adversarial example drawn like the paper's Figure 1."""

from advref.drawing.example import example_picture, plot_example
from advref.drawing.png import encode_png, write_png

__all__ = ["encode_png", "example_picture", "plot_example", "write_png"]
