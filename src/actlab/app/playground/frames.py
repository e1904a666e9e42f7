"""The binary frame: one websocket message per picture of the training.

Layout (little-endian): 4 bytes `uint32` header length H, H bytes of UTF-8 JSON (padded with spaces to a
multiple of 4), then the arrays as float32, one after another. The header carries
`"arrays": {name: [offset, shape]}` with offsets in float32 elements from the end of the header, so the
page reads each array as a `Float32Array` view without copying.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping
from typing import Any

import numpy as np


def encode(header: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> bytes:
    layout, offset, chunks = {}, 0, []
    for name, a in arrays.items():
        a = np.ascontiguousarray(a, dtype="<f4")
        layout[name] = [offset, list(a.shape)]
        offset += a.size
        chunks.append(a.tobytes())
    text = json.dumps({**header, "type": "frame", "arrays": layout}, allow_nan=False,
                      default=_finite).encode()
    text += b" " * (-len(text) % 4)
    return struct.pack("<I", len(text)) + text + b"".join(chunks)


def decode(message: bytes) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """What `encode` wrote (the tests and the benchmark read frames with it)."""
    (n,) = struct.unpack_from("<I", message)
    header = json.loads(message[4:4 + n])
    body = np.frombuffer(message, dtype="<f4", offset=4 + n)
    arrays = {name: body[o:o + int(np.prod(shape))].reshape(shape) for name, (o, shape) in header["arrays"].items()}
    return header, arrays


def _finite(v: object) -> object:
    raise TypeError(f"not JSON: {v!r}")
