"""The four MNIST idx files, found, fetched and validated without torch.

Files live under `<data root>/MNIST/raw/` (torchvision's layout), `.gz` or plain. The data root is
`--data-root`, else the environment variable MNIST_ROOT, else `./data`. Missing files are fetched
there first (search.engine.fetch: pinned hashes, public mirrors or $MNIST_MIRROR) unless offline.
Every file is validated (magic number, count, shape, length, labels 0..9) before anything uses
it; a problem is a `DataError` naming the file. search.engine.data turns the checked bytes into
tensors; `python -m search.data fetch` needs no torch at all.
"""

from __future__ import annotations

import gzip
import math
import os
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

from search.engine import fetch
from search.errors import UsageError

TRAIN_COUNT, TEST_COUNT, SIDE = 60_000, 10_000, 28
IMAGES_MAGIC, LABELS_MAGIC = 2051, 2049  # idx3 (uint8, 3 dims) and idx1 (uint8, 1 dim)
FILES = {
    "train_images": ("train-images-idx3-ubyte", IMAGES_MAGIC, TRAIN_COUNT),
    "train_labels": ("train-labels-idx1-ubyte", LABELS_MAGIC, TRAIN_COUNT),
    "test_images": ("t10k-images-idx3-ubyte", IMAGES_MAGIC, TEST_COUNT),
    "test_labels": ("t10k-labels-idx1-ubyte", LABELS_MAGIC, TEST_COUNT),
}


class DataError(UsageError):
    """Missing, truncated or corrupt MNIST files."""


def resolve_root(data_root: str | os.PathLike | None = None) -> Path:
    """`data_root`, else $MNIST_ROOT, else ./data."""
    return Path(data_root or os.environ.get("MNIST_ROOT") or "data")


def expected_paths(root: Path) -> list[Path]:
    return [root / "MNIST" / "raw" / f"{name}.gz" for name, _, _ in FILES.values()]


def read_mnist(
    data_root: str | os.PathLike | None = None,
    offline: bool | None = None,
    say: Callable[[str], None] | None = None,
) -> dict[str, tuple[bytes, list[int]]]:
    """The four files' data bytes and shapes by FILES key, fetching the missing ones first unless
    `offline` (default: $MNIST_OFFLINE); raises `DataError` naming the file at fault."""
    root = resolve_root(data_root)
    raw = root / "MNIST" / "raw"
    missing = [name for name, _, _ in FILES.values() if _present(raw, name) is None]
    if missing:
        if fetch.offline_requested(offline):
            raise DataError(_missing_message(root, [raw / f"{name}.gz" for name in missing]))
        fetch.fetch_missing(raw, missing, say)
    found = {key: _present(raw, name) for key, (name, _, _) in FILES.items()}
    return {key: read_idx(found[key], magic, count) for key, (_, magic, count) in FILES.items()}


def _present(raw: Path, name: str) -> Path | None:
    return next((p for p in (raw / name, raw / f"{name}.gz") if p.is_file()), None)


def _missing_message(root: Path, missing: list[Path]) -> str:
    names = ", ".join(str(p) for p in missing)
    return (
        f"MNIST files missing under data root {root}: expected {names}; offline (--offline or"
        " MNIST_OFFLINE=1), so nothing was fetched: run without it to fetch them, set"
        " MNIST_MIRROR to a mirror you can reach, or copy the four standard idx files there"
    )


def read_idx(path: Path, magic: int, count: int) -> tuple[bytes, list[int]]:
    """The data bytes after the header and the shape, once every check passed."""
    try:
        payload = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError, zlib.error, gzip.BadGzipFile) as error:
        message = f"{path}: cannot read ({error}); the file is corrupt, fetch it again"
        raise DataError(message) from None
    dims = 3 if magic == IMAGES_MAGIC else 1
    header = 4 + 4 * dims
    if len(payload) < header:
        raise DataError(f"{path}: truncated ({len(payload)} bytes, no full idx header)")
    found_magic, *shape = struct.unpack(f">{1 + dims}I", payload[:header])
    if found_magic != magic:
        raise DataError(f"{path}: bad magic number {found_magic} (expected {magic})")
    expected_shape = [count] + ([SIDE, SIDE] if dims == 3 else [])
    if shape != expected_shape:
        raise DataError(f"{path}: shape {shape}, expected {expected_shape}")
    if len(payload) != header + math.prod(shape):
        raise DataError(
            f"{path}: {len(payload) - header} data bytes, expected {math.prod(shape)}"
            " (truncated or padded)"
        )
    data = payload[header:]
    if dims == 1 and max(data) > 9:
        raise DataError(f"{path}: label {max(data)} outside 0..9")
    return data, shape


def main(argv: list[str] | None = None, prog: str = "python -m search.data") -> int:
    """`python -m search.data fetch`: fetch the missing MNIST files, and nothing else."""
    from search.cli import Parser, main_guard

    parser = Parser(
        prog=prog,
        description="Fetch MNIST (the four standard idx .gz files) into <data root>/MNIST/raw/,"
        " hash-checked, from the public mirrors or $MNIST_MIRROR; files already there are kept.",
    )
    parser.add_argument("action", choices=("fetch",), help="fetch: fetch the missing files")
    parser.add_argument(
        "--data-root", help="folder to hold MNIST/raw/ (default: $MNIST_ROOT, else ./data)"
    )
    args = parser.parse_args(argv)
    return main_guard(parser.prog, lambda: _fetch_command(args.data_root))


def _fetch_command(data_root: str | None) -> int:
    root = resolve_root(data_root)
    files = read_mnist(root, offline=False)
    train, test = files["train_labels"][1][0], files["test_labels"][1][0]
    print(
        f"MNIST ready under {root / 'MNIST' / 'raw'}: {train:,} training and {test:,} test images"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
