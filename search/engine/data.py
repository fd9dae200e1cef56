"""MNIST as tensors: loaded once, normalised once, batched by indexing.

The four idx files are found, fetched when missing and validated by search.engine.idx (a problem
is a `DataError` naming the file); here they become tensors. Batches come from a random
permutation and tensor indexing on the training device; the optional augmentation (random
rotation and translation per sample) is one batched affine warp.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from search.engine.idx import FILES, LABELS_MAGIC, read_idx, read_mnist
from search.errors import UsageError

MEAN, STD = 0.1307, 0.3081  # MNIST training-set pixel mean and std, pixels scaled to [0, 1]
DEFAULT_VAL_SIZE = 10_000
SPLIT_SEED = 20_240_601  # fixes which training images form the validation split, for every run


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


def load_mnist(
    data_root: str | os.PathLike | None = None,
    offline: bool | None = None,
    say: Callable[[str], None] | None = None,
) -> MnistArrays:
    """The four idx files as tensors, fetched and validated first (search.engine.idx: a problem
    is a `DataError` naming the file)."""
    files = read_mnist(data_root, offline, say)
    return MnistArrays(**{key: _tensor(*files[key], FILES[key][1]) for key in FILES})


def _read_idx(path: Path, magic: int, count: int) -> torch.Tensor:
    """One validated idx file as a tensor (uint8 images, int64 labels)."""
    return _tensor(*read_idx(path, magic, count), magic)


def _tensor(data: bytes, shape: list[int], magic: int) -> torch.Tensor:
    tensor = torch.frombuffer(bytearray(data), dtype=torch.uint8).view(*shape)
    return tensor.long() if magic == LABELS_MAGIC else tensor


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
    """Carve a deterministic validation split off the training set and normalise each split.

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
    # the images each split keeps, normalised: not all 60,000 first (a 1,000-image prepare
    # took 0.33 s instead of 0.05 s on 2 cores, and the full set lived twice in memory)
    images = arrays.train_images
    val = Split(normalise(images[val_index]), arrays.train_labels[val_index]) if val_size else None
    data = Data(
        train=Split(normalise(images[train_index]), arrays.train_labels[train_index]),
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
