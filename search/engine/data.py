"""MNIST from the four standard idx files, loaded once, normalised once, batched by indexing.

Files live under `<data root>/MNIST/raw/` (torchvision's layout), `.gz` or plain. The data root is
`--data-root`, else the environment variable MNIST_ROOT, else `./data`. Missing files are fetched
there first (search.engine.fetch: pinned hashes, public mirrors or $MNIST_MIRROR) unless offline.
Every file is validated (magic number, count, shape, length) before anything uses it; a problem is
a `DataError` naming the file. Batches come from a random permutation and tensor indexing on the
training device; the optional augmentation (random rotation and translation per sample) is one
batched affine warp.
"""

from __future__ import annotations

import gzip
import math
import os
import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from search.engine import fetch
from search.errors import UsageError

MEAN, STD = 0.1307, 0.3081  # MNIST training-set pixel mean and std, pixels scaled to [0, 1]
TRAIN_COUNT, TEST_COUNT, SIDE = 60_000, 10_000, 28
IMAGES_MAGIC, LABELS_MAGIC = 2051, 2049  # idx3 (uint8, 3 dims) and idx1 (uint8, 1 dim)
FILES = {
    "train_images": ("train-images-idx3-ubyte", IMAGES_MAGIC, TRAIN_COUNT),
    "train_labels": ("train-labels-idx1-ubyte", LABELS_MAGIC, TRAIN_COUNT),
    "test_images": ("t10k-images-idx3-ubyte", IMAGES_MAGIC, TEST_COUNT),
    "test_labels": ("t10k-labels-idx1-ubyte", LABELS_MAGIC, TEST_COUNT),
}
DEFAULT_VAL_SIZE = 10_000
SPLIT_SEED = 20_240_601  # fixes which training images form the validation split, for every run


class DataError(UsageError):
    """Missing, truncated or corrupt MNIST files."""


@dataclass(frozen=True)
class MnistArrays:
    """The raw dataset: uint8 images (N, 28, 28) and int64 labels (N,)."""

    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor


@dataclass(frozen=True)
class Split:
    """Normalised float32 images (N, 1, 28, 28) and int64 labels (N,), on one device."""

    images: torch.Tensor
    labels: torch.Tensor

    def __len__(self) -> int:
        return len(self.labels)

    def to(self, device: torch.device | str) -> Split:
        return Split(self.images.to(device), self.labels.to(device))


@dataclass(frozen=True)
class Data:
    """What training sees: train, optional validation (carved from train), and test."""

    train: Split
    val: Split | None
    test: Split

    def to(self, device: torch.device | str) -> Data:
        val = self.val.to(device) if self.val is not None else None
        return Data(self.train.to(device), val, self.test.to(device))


def resolve_root(data_root: str | os.PathLike | None = None) -> Path:
    """`data_root`, else $MNIST_ROOT, else ./data."""
    return Path(data_root or os.environ.get("MNIST_ROOT") or "data")


def expected_paths(root: Path) -> list[Path]:
    return [root / "MNIST" / "raw" / f"{name}.gz" for name, _, _ in FILES.values()]


def load_mnist(
    data_root: str | os.PathLike | None = None,
    offline: bool | None = None,
    say: Callable[[str], None] | None = None,
) -> MnistArrays:
    """Read and validate the four idx files, fetching the missing ones first (search.engine.fetch)
    unless `offline` (default: $MNIST_OFFLINE); raises `DataError` naming the file at fault."""
    root = resolve_root(data_root)
    raw = root / "MNIST" / "raw"
    missing = [name for name, _, _ in FILES.values() if _present(raw, name) is None]
    if missing:
        if fetch.offline_requested(offline):
            raise DataError(_missing_message(root, [raw / f"{name}.gz" for name in missing]))
        fetch.fetch_missing(raw, missing, say)
    found = {key: _present(raw, name) for key, (name, _, _) in FILES.items()}
    arrays = {key: _read_idx(found[key], magic, count) for key, (_, magic, count) in FILES.items()}
    return MnistArrays(**arrays)


def _present(raw: Path, name: str) -> Path | None:
    return next((p for p in (raw / name, raw / f"{name}.gz") if p.is_file()), None)


def _missing_message(root: Path, missing: list[Path]) -> str:
    names = ", ".join(str(p) for p in missing)
    return (
        f"MNIST files missing under data root {root}: expected {names}; offline (--offline or"
        " MNIST_OFFLINE=1), so nothing was fetched: run without it to fetch them, set"
        " MNIST_MIRROR to a mirror you can reach, or copy the four standard idx files there"
    )


def _read_idx(path: Path, magic: int, count: int) -> torch.Tensor:
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
    data = torch.frombuffer(bytearray(payload[header:]), dtype=torch.uint8).view(*shape)
    if dims == 1:
        if int(data.max()) > 9:
            raise DataError(f"{path}: label {int(data.max())} outside 0..9")
        return data.long()
    return data


def normalise(images: torch.Tensor) -> torch.Tensor:
    """uint8 (N, 28, 28) -> float32 (N, 1, 28, 28), scaled to [0, 1] then (x - MEAN) / STD."""
    return ((images.float() / 255.0 - MEAN) / STD).unsqueeze(1)


def prepare(
    arrays: MnistArrays,
    val_size: int = DEFAULT_VAL_SIZE,
    train_limit: int | None = None,
    device: torch.device | str = "cpu",
    test_limit: int | None = None,
) -> Data:
    """Normalise once and carve a deterministic validation split off the training set.

    `val_size` images (0 = none) chosen by a fixed permutation (SPLIT_SEED) form the validation
    split; the rest train. `train_limit` keeps only the first N training images and
    `test_limit` the first N test images (smoke runs and tests: such a test accuracy is no
    result).
    """
    if not 0 <= val_size < len(arrays.train_labels):
        raise UsageError(
            f"validation size must be in 0..{len(arrays.train_labels) - 1}, got {val_size}"
        )
    order = torch.randperm(
        len(arrays.train_labels), generator=torch.Generator().manual_seed(SPLIT_SEED)
    )
    val_index, train_index = order[:val_size], order[val_size:]
    if val_size == 0:
        train_index = torch.arange(len(arrays.train_labels))  # all 60,000, in file order
    if train_limit is not None:
        train_index = train_index[:train_limit]
    images = normalise(arrays.train_images)
    val = Split(images[val_index], arrays.train_labels[val_index]) if val_size else None
    data = Data(
        train=Split(images[train_index], arrays.train_labels[train_index]),
        val=val,
        test=Split(normalise(arrays.test_images[:test_limit]), arrays.test_labels[:test_limit]),
    )
    return data.to(device)


def batches(
    split: Split,
    batch_size: int,
    generator: torch.Generator,
    augment: Augment | None = None,
    draws: torch.Generator | None = None,
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """One epoch of shuffled batches (the last may be smaller), by indexing on split's device.

    The order is drawn by `generator` (on the CPU: the same order on every device) and copied
    to the device once per epoch; augmentation draws come from `draws` (default: `generator`),
    which on a GPU lives on the device, so a batch never waits for the host."""
    order = torch.randperm(len(split), generator=generator).to(split.labels.device)
    for start in range(0, len(split), batch_size):
        index = order[start : start + batch_size]
        images = split.images[index]
        if augment is not None:
            images = augment(images, generator if draws is None else draws)
        yield images, split.labels[index]


@dataclass(frozen=True)
class Augment:
    """Random rotation (+-degrees) and translation (+-fraction of the side) per sample, batched."""

    degrees: float = 0.0
    translate: float = 0.0

    def __call__(self, images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Warp `images`; the draws are made on `generator`'s device (the images' device for no
        host-device copy)."""
        count = images.shape[0]
        draws = torch.rand(count, 3, generator=generator, device=generator.device)
        draws = draws.to(images.device) * 2 - 1
        angle = draws[:, 0] * math.radians(self.degrees)
        shift = draws[:, 1:] * (2 * self.translate)  # grid coordinates span [-1, 1]
        cos, sin = torch.cos(angle), torch.sin(angle)
        theta = torch.stack([cos, -sin, shift[:, 0], sin, cos, shift[:, 1]], 1).view(-1, 2, 3)
        grid = F.affine_grid(theta.to(images.dtype), list(images.shape), align_corners=False)
        background = -MEAN / STD  # a black pixel after normalisation
        warped = F.grid_sample(images - background, grid, align_corners=False)  # pads with 0
        return warped + background

    @property
    def active(self) -> bool:
        return self.degrees > 0 or self.translate > 0


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
    arrays = load_mnist(root, offline=False)
    print(
        f"MNIST ready under {root / 'MNIST' / 'raw'}: {len(arrays.train_labels):,} training and"
        f" {len(arrays.test_labels):,} test images"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
