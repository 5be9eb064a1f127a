"""Strict JSON for every --json output and results.json.

JSON has no NaN or infinity, and `json.dumps` would write the non-standard
tokens NaN and Infinity that strict parsers reject. advref writes instead:

    NaN          -> null      (a quantity with no value, e.g. the confidence on
                               mistakes when there are none)
    +inf / -inf  -> "inf" / "-inf"   (e.g. the L_inf norm)

NumPy scalars and arrays become numbers and lists; tuples become lists.
"""

from __future__ import annotations

import json
import math

import numpy as np


def plain(value):
    """`value` with every non-JSON number replaced as the module docstring says."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return [plain(v) for v in value.tolist()]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if math.isnan(value):
            return None
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return value
    return value


def dumps(value, **kwargs) -> str:
    """json.dumps of plain(value); refuses anything else that is not JSON."""
    return json.dumps(plain(value), allow_nan=False, **kwargs)
