"""Writing small idx files (MNIST's format) for the loader tests.

An idx file is a big-endian header, magic number then one uint32 per dimension, followed by the
uint8 payload; MNIST ships them gzipped.
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path


def idx_bytes(magic: int, shape: tuple[int, ...], payload: bytes) -> bytes:
    """Header (magic, then each dimension, big-endian uint32) followed by `payload` as given."""
    return struct.pack(f">{1 + len(shape)}I", magic, *shape) + payload


def write_idx(
    path: Path, magic: int, shape: tuple[int, ...], payload: bytes, gz: bool = True
) -> Path:
    """Write an idx file at `path` (+ ".gz" when `gz`); the payload is not checked on purpose."""
    data = idx_bytes(magic, shape, payload)
    if gz:
        path = path.with_name(path.name + ".gz")
        data = gzip.compress(data, compresslevel=1)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path
