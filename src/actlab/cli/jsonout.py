"""The one JSON boundary of the CLI: `--json` output with non-finite floats as strings.

JSON has no infinity or nan. actlab's dicts (`analyze(...).to_dict()`, `describe(...)`) hold
Python floats, `math.inf` included; `dumps` writes ±inf as the strings "inf" / "-inf" and nan
as "nan", so every `--json` output is standard JSON that any parser reads. Read them back with
`float(v)`, which takes these strings.
"""

from __future__ import annotations

import json
import math
from typing import Any


def encode(value: Any) -> Any:
    """`value` with every non-finite float replaced by "inf", "-inf" or "nan" (dicts, lists, tuples walked)."""
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else "inf" if value > 0 else "-inf"
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    return value


def dumps(value: Any) -> str:
    """Standard JSON (indented, UTF-8 text kept) of `value`, non-finite floats encoded as strings."""
    return json.dumps(encode(value), indent=2, ensure_ascii=False, allow_nan=False)
