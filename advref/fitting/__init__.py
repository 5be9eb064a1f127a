"""A training run, specified and fitted: the one path of `advref train` and the
reproduce cache.

    recipes   the named recipes (`get_recipe` gives a frozen `Recipe`)
    spec      `TrainSpec`, `Objective`, `Monitor`: what a run is, its key and label
    fit       `fit(spec, ...)`: stage 1, then the second stage the spec names
              (import it from advref.fitting.fit: the package's `fit` is the module)
"""

from .fit import CacheError, Fitted, RunFiles
from .recipes import RECIPES, Recipe, get_recipe
from .spec import Monitor, Objective, TrainSpec

__all__ = ["RECIPES", "CacheError", "Fitted", "Monitor", "Objective", "Recipe", "RunFiles",
           "TrainSpec", "get_recipe"]
