"""MNIST loading, validation, splitting, batching and augmentation.

The loader is tested on idx files written here (small ones through `_read_idx`, a full-size
synthetic data root through `load_mnist`), then on the real files: counts and label histograms
are those of the published MNIST.
"""

from __future__ import annotations

import gzip
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from idx import write_idx

from search.engine.data import (
    MEAN,
    STD,
    Augment,
    MnistArrays,
    Split,
    _read_idx,
    batches,
    load_mnist,
    normalise,
    prepare,
)
from search.engine.idx import (
    FILES,
    IMAGES_MAGIC,
    LABELS_MAGIC,
    TEST_COUNT,
    TRAIN_COUNT,
    DataError,
    expected_paths,
)
from search.errors import UsageError

REPO_ROOT = Path(__file__).resolve().parents[2]
BACKGROUND = -MEAN / STD  # a black pixel after normalisation
TRAIN_HISTOGRAM = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_HISTOGRAM = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def three_images() -> bytes:
    """Image i is black except pixel (i, 2i) = 10 + i and its last pixel = 255 - i."""
    pixels = bytearray(3 * 28 * 28)
    for i in range(3):
        pixels[i * 784 + i * 28 + 2 * i] = 10 + i
        pixels[i * 784 + 783] = 255 - i
    return bytes(pixels)


# --- _read_idx on small files -------------------------------------------------------------------


@pytest.mark.parametrize("gz", [True, False], ids=["gz", "plain"])
def test_read_idx_gives_back_the_pixels_and_labels(tmp_path, gz):
    images = write_idx(tmp_path / "images", IMAGES_MAGIC, (3, 28, 28), three_images(), gz=gz)
    labels = write_idx(tmp_path / "labels", LABELS_MAGIC, (3,), bytes([7, 0, 9]), gz=gz)
    assert images.name == ("images.gz" if gz else "images")
    pixels = _read_idx(images, IMAGES_MAGIC, 3)
    assert (pixels.dtype, pixels.shape) == (torch.uint8, (3, 28, 28))
    assert [int(pixels[i, i, 2 * i]) for i in range(3)] == [10, 11, 12]
    assert [int(pixels[i, 27, 27]) for i in range(3)] == [255, 254, 253]
    assert int(pixels.sum()) == 10 + 11 + 12 + 255 + 254 + 253
    read_labels = _read_idx(labels, LABELS_MAGIC, 3)
    assert read_labels.dtype == torch.int64
    assert read_labels.tolist() == [7, 0, 9]


def corrupt_files(tmp_path: Path) -> list[tuple[Path, int, int, str]]:
    """(path, magic, count, expected message after "<path>: ") for each kind of damage."""
    image = three_images()
    cases = [
        ("bad_magic", IMAGES_MAGIC, LABELS_MAGIC, (3, 28, 28), image,
         "bad magic number 2049 (expected 2051)"),
        ("truncated", IMAGES_MAGIC, IMAGES_MAGIC, (3, 28, 28), image[:-1],
         "2351 data bytes, expected 2352 (truncated or padded)"),
        ("extra", IMAGES_MAGIC, IMAGES_MAGIC, (3, 28, 28), image + b"\0",
         "2353 data bytes, expected 2352 (truncated or padded)"),
        ("wrong_side", IMAGES_MAGIC, IMAGES_MAGIC, (3, 28, 27), image[: 3 * 28 * 27],
         "shape [3, 28, 27], expected [3, 28, 28]"),
        ("wrong_count", IMAGES_MAGIC, IMAGES_MAGIC, (2, 28, 28), image[: 2 * 784],
         "shape [2, 28, 28], expected [3, 28, 28]"),
        ("big_label", LABELS_MAGIC, LABELS_MAGIC, (3,), bytes([3, 10, 9]),
         "label 10 outside 0..9"),
        ("wrong_label_count", LABELS_MAGIC, LABELS_MAGIC, (4,), bytes([3, 1, 9, 2]),
         "shape [4], expected [3]"),
    ]  # fmt: skip
    found = []
    for name, expected_magic, written_magic, shape, payload, message in cases:
        for gz in (True, False):
            path = write_idx(tmp_path / name, written_magic, shape, payload, gz=gz)
            found.append((path, expected_magic, 3, message))
    return found


def test_each_corrupt_file_gives_a_data_error_naming_it(tmp_path):
    cases = corrupt_files(tmp_path)
    assert len(cases) == 14
    for path, magic, count, message in cases:
        with pytest.raises(DataError) as caught:
            _read_idx(path, magic, count)
        assert str(caught.value) == f"{path}: {message}"


def test_a_header_cut_short_is_truncated(tmp_path):
    path = tmp_path / "labels"
    path.write_bytes(bytes([0, 0, 8, 1, 0, 0]))  # magic and half a dimension
    with pytest.raises(DataError) as caught:
        _read_idx(path, LABELS_MAGIC, 3)
    assert str(caught.value) == f"{path}: truncated (6 bytes, no full idx header)"


@pytest.mark.parametrize("damage", ["random bytes", "cut short", "empty"])
def test_a_bad_gzip_file_gives_a_data_error_naming_it(tmp_path, damage):
    path = tmp_path / "train-labels-idx1-ubyte.gz"
    good = gzip.compress(bytes(8) * 100)
    content = {
        "random bytes": random.Random(0).randbytes(500),
        "cut short": good[: len(good) // 2],
        "empty": b"",
    }[damage]
    path.write_bytes(content)
    with pytest.raises(DataError) as caught:
        _read_idx(path, LABELS_MAGIC, 3)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    if damage != "empty":  # an empty .gz decompresses to nothing: a header-less file
        assert message.endswith("the file is corrupt, fetch it again")
    assert "\n" not in message


# --- load_mnist on a full-size synthetic data root ---------------------------------------------


@pytest.fixture(scope="module")
def synthetic_root(tmp_path_factory) -> Path:
    """Four full-size idx files: black images with a few known pixels, labels i % 10.

    The train images are plain, everything else gzipped, so both kinds are read.
    """
    root = tmp_path_factory.mktemp("synthetic")
    raw = root / "MNIST" / "raw"
    for prefix, count in (("train", TRAIN_COUNT), ("t10k", TEST_COUNT)):
        pixels = bytearray(count * 784)
        pixels[0 * 784 + 5 * 28 + 7] = 255  # image 0, row 5, column 7
        pixels[(count - 1) * 784 + 783] = 1  # the last image's last pixel
        labels = bytes(i % 10 for i in range(count))
        write_idx(raw / f"{prefix}-images-idx3-ubyte", IMAGES_MAGIC, (count, 28, 28),
                  bytes(pixels), gz=prefix == "t10k")  # fmt: skip
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", LABELS_MAGIC, (count,), labels)
    return root


def test_load_mnist_reads_a_full_size_data_root(synthetic_root):
    raw = synthetic_root / "MNIST" / "raw"
    assert sorted(p.name for p in raw.iterdir()) == [
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte.gz",
    ]
    arrays = load_mnist(synthetic_root)
    for images, labels, count in (
        (arrays.train_images, arrays.train_labels, TRAIN_COUNT),
        (arrays.test_images, arrays.test_labels, TEST_COUNT),
    ):
        assert (images.dtype, images.shape) == (torch.uint8, (count, 28, 28))
        assert (labels.dtype, labels.shape) == (torch.int64, (count,))
        assert int(images[0, 5, 7]) == 255
        assert int(images[count - 1, 27, 27]) == 1
        assert int(images.sum(dtype=torch.int64)) == 256
        assert torch.equal(labels, torch.arange(count) % 10)


def test_load_mnist_names_the_corrupt_file(tmp_path, synthetic_root):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for path in (synthetic_root / "MNIST" / "raw").iterdir():
        (raw / path.name).symlink_to(path)
    (raw / "t10k-labels-idx1-ubyte.gz").unlink()
    bad = write_idx(
        raw / "t10k-labels-idx1-ubyte",
        LABELS_MAGIC,
        (TEST_COUNT,),
        bytes(TEST_COUNT - 1),
        gz=False,
    )
    with pytest.raises(DataError) as caught:
        load_mnist(tmp_path)
    assert str(caught.value) == f"{bad}: 9999 data bytes, expected 10000 (truncated or padded)"


def test_missing_files_are_listed_by_their_exact_expected_paths(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    write_idx(raw / "train-images-idx3-ubyte", IMAGES_MAGIC, (1, 28, 28), bytes(784), gz=False)
    write_idx(raw / "t10k-labels-idx1-ubyte", LABELS_MAGIC, (1,), bytes(1))
    with pytest.raises(DataError) as caught:
        load_mnist(tmp_path)
    message = str(caught.value)
    missing = f"{raw / 'train-labels-idx1-ubyte.gz'}, {raw / 't10k-images-idx3-ubyte.gz'}"
    assert message.startswith(
        f"MNIST files missing under data root {tmp_path}: expected {missing}; "
    )
    assert "\n" not in message
    assert isinstance(caught.value, UsageError)


def test_expected_paths_are_the_four_gz_files_under_mnist_raw(tmp_path):
    assert expected_paths(tmp_path) == [
        tmp_path / "MNIST" / "raw" / f"{name}.gz" for name, _, _ in FILES.values()
    ]


def test_cli_with_an_empty_data_root_exits_2_and_writes_nothing(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    database = tmp_path / "s.db"
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    environment.pop("MNIST_ROOT", None)
    result = subprocess.run(
        [sys.executable, "-m", "search.run", "--study", "baseline", "--data-root", str(empty),
         "--storage", f"sqlite:///{database}"],
        cwd=REPO_ROOT, env=environment, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("python -m search.run: error: MNIST files missing under data root")
    for path in expected_paths(empty):
        assert str(path) in lines[0]
    assert not database.exists()
    assert sorted(tmp_path.iterdir()) == [empty]
    assert list(empty.iterdir()) == []


def test_cli_with_a_truncated_real_file_names_it_exits_2_and_writes_nothing(tmp_path, data_root):
    raw = tmp_path / "root" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for source in sorted((Path(data_root) / "MNIST" / "raw").glob("*-ubyte.gz")):
        (raw / source.name).symlink_to(source)
    cut = raw / "train-images-idx3-ubyte.gz"
    data = cut.read_bytes()
    cut.unlink()
    cut.write_bytes(data[: len(data) // 2])  # a download that stopped half-way
    database = tmp_path / "s.db"
    result = subprocess.run(
        [sys.executable, "-m", "search.run", "--study", "baseline", "--data-root",
         str(tmp_path / "root"), "--storage", f"sqlite:///{database}", "--workers", "1"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and str(cut) in lines[0], result.stderr
    assert not database.exists() and not (tmp_path / "runs").exists()


# --- the real files -----------------------------------------------------------------------------


def test_real_files_counts_shapes_and_label_histograms(mnist_arrays):
    assert mnist_arrays.train_images.shape == (60_000, 28, 28)
    assert mnist_arrays.test_images.shape == (10_000, 28, 28)
    assert mnist_arrays.train_images.dtype == mnist_arrays.test_images.dtype == torch.uint8
    assert int(mnist_arrays.train_images.max()) == 255
    assert mnist_arrays.train_labels.bincount(minlength=10).tolist() == TRAIN_HISTOGRAM
    assert mnist_arrays.test_labels.bincount(minlength=10).tolist() == TEST_HISTOGRAM
    assert sum(TRAIN_HISTOGRAM) == 60_000 and sum(TEST_HISTOGRAM) == 10_000
    assert mnist_arrays.train_labels[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]


def test_normalised_training_images_have_mean_0_and_std_1(mnist_arrays):
    data = prepare(mnist_arrays, val_size=0)
    images = data.train.images
    assert (images.dtype, images.shape) == (torch.float32, (60_000, 1, 28, 28))
    assert abs(images.double().mean().item()) < 1e-3
    assert abs(images.double().std().item() - 1) < 1e-3
    assert images.min().item() == pytest.approx(BACKGROUND, abs=1e-6)
    assert images.max().item() == pytest.approx((1 - MEAN) / STD, abs=1e-6)


def test_real_validation_split_is_fixed(mnist_arrays):
    first, second = prepare(mnist_arrays), prepare(mnist_arrays)
    assert (len(first.train), len(first.val), len(first.test)) == (50_000, 10_000, 10_000)
    assert torch.equal(first.val.images, second.val.images)
    assert torch.equal(first.val.labels, second.val.labels)
    assert torch.equal(first.train.labels, second.train.labels)
    train_and_val = torch.cat([first.train.labels, first.val.labels]).bincount(minlength=10)
    assert train_and_val.tolist() == TRAIN_HISTOGRAM  # every training image, once


def indexed_arrays(count: int) -> MnistArrays:
    """Image i carries its index in its first two pixels (i // 256, i % 256); label i % 10."""
    images = torch.zeros(count, 28, 28, dtype=torch.uint8)
    index = torch.arange(count)
    images[:, 0, 0], images[:, 0, 1] = index // 256, index % 256
    labels = index % 10
    return MnistArrays(images, labels, images[:50].clone(), labels[:50].clone())


def indices_of(split: Split) -> list[int]:
    pixels = torch.round((split.images[:, 0, 0, :2] * STD + MEAN) * 255).long()
    indices = (pixels[:, 0] * 256 + pixels[:, 1]).tolist()
    assert (torch.tensor(indices) % 10).tolist() == split.labels.tolist()  # labels still paired
    return indices


def test_validation_split_is_deterministic_and_disjoint():
    arrays = indexed_arrays(600)
    first, second = prepare(arrays, val_size=100), prepare(arrays, val_size=100)
    train, val = indices_of(first.train), indices_of(first.val)
    assert (len(train), len(val)) == (500, 100)
    assert sorted(train + val) == list(range(600))
    assert val == indices_of(second.val) and train == indices_of(second.train)
    assert val != sorted(val)  # a permutation, not the first or last 100
    assert indices_of(first.test) == list(range(50))


def test_no_validation_split_trains_on_everything_in_file_order():
    data = prepare(indexed_arrays(600), val_size=0)
    assert data.val is None
    assert indices_of(data.train) == list(range(600))
    assert indices_of(prepare(indexed_arrays(600), val_size=0, train_limit=7).train) == list(
        range(7)
    )


def test_train_limit_keeps_the_first_training_images_of_the_split():
    arrays = indexed_arrays(600)
    full = indices_of(prepare(arrays, val_size=100).train)
    limited = prepare(arrays, val_size=100, train_limit=30)
    assert indices_of(limited.train) == full[:30]
    assert len(limited.val) == 100


@pytest.mark.parametrize("val_size", [-1, 600])
def test_validation_size_out_of_range_is_a_usage_error(val_size):
    with pytest.raises(UsageError) as caught:
        prepare(indexed_arrays(600), val_size=val_size)
    assert str(caught.value) == f"validation size must be in 0..599, got {val_size}"


def test_normalise_maps_black_to_the_background_and_white_to_its_maximum():
    images = torch.tensor([[[0, 255]]], dtype=torch.uint8).expand(1, 28, 2)
    normalised = normalise(images)
    assert normalised.shape == (1, 1, 28, 2)
    assert torch.allclose(normalised[0, 0, :, 0], torch.full((28,), BACKGROUND))
    assert torch.allclose(normalised[0, 0, :, 1], torch.full((28,), (1 - MEAN) / STD))


# --- batches ------------------------------------------------------------------------------------


def numbered_split(count: int) -> Split:
    """Image i is filled with i, label i: a batch tells which images it holds."""
    index = torch.arange(count)
    return Split(index.float().view(-1, 1, 1, 1).expand(count, 1, 2, 2).clone(), index)


def test_batches_cover_every_image_once_per_epoch():
    split, generator = numbered_split(1000), torch.Generator().manual_seed(0)
    for _ in range(2):
        epoch = list(batches(split, 64, generator))
        assert [len(labels) for _, labels in epoch] == [64] * 15 + [40]  # 1000 = 15 * 64 + 40
        labels = torch.cat([labels for _, labels in epoch])
        assert sorted(labels.tolist()) == list(range(1000))
        assert labels.tolist() != list(range(1000))  # shuffled
        for images, batch_labels in epoch:
            assert torch.equal(images[:, 0, 0, 0], batch_labels.float())


def test_batches_follow_the_generator_seed():
    split = numbered_split(300)

    def order(seed: int) -> list[int]:
        generator = torch.Generator().manual_seed(seed)
        return torch.cat([labels for _, labels in batches(split, 32, generator)]).tolist()

    assert order(3) == order(3)
    assert order(3) != order(4)


# --- augmentation -------------------------------------------------------------------------------


def test_augment_with_nothing_to_do_is_the_identity():
    images = torch.randn(8, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    augment = Augment(degrees=0.0, translate=0.0)
    assert not augment.active
    warped = augment(images, torch.Generator().manual_seed(1))
    # Not 1e-6: the identity grid lands on pixel centres only up to float32 rounding (~1e-6 px),
    # and between neighbours ~4 apart that is ~1e-5; torch's own identity warp does the same.
    assert torch.allclose(warped, images, rtol=0, atol=5e-5)


def test_augment_keeps_an_all_background_image_background():
    images = torch.full((6, 1, 28, 28), BACKGROUND)
    augment = Augment(degrees=30.0, translate=0.2)
    assert augment.active
    warped = augment(images, torch.Generator().manual_seed(2))
    assert torch.allclose(warped, images, rtol=0, atol=1e-6)


def fixed_draws(monkeypatch, draws: list[list[float]]) -> None:
    """Make Augment's uniform draws (rand * 2 - 1) exactly `draws`: [angle, shift x, shift y]."""
    values = (torch.tensor(draws) + 1) / 2
    monkeypatch.setattr(torch, "rand", lambda *shape, generator=None, device=None: values.clone())


def one_bright_pixel(row: int, column: int) -> torch.Tensor:
    image = torch.full((1, 1, 28, 28), BACKGROUND)
    image[0, 0, row, column] = (1 - MEAN) / STD
    return image


@pytest.mark.parametrize(("shift_x", "shift_y"), [(3, 0), (0, -2), (-4, 5)])
def test_a_whole_pixel_translation_moves_a_bright_pixel(monkeypatch, shift_x, shift_y):
    # align_corners=False: pixel j sits at grid x = (2j + 1) / 28 - 1, so one pixel is 2/28 of
    # the grid. Augment samples the input at x_out + shift, shift = draw * 2 * translate; with
    # translate 0.25 a draw of k/7 shifts the grid by 2k/28: output column j reads input column
    # j + k, so the bright pixel at column c lands at column c - k (rows alike, with y).
    fixed_draws(monkeypatch, [[0.0, shift_x / 7, shift_y / 7]])
    warped = Augment(translate=0.25)(one_bright_pixel(10, 12), torch.Generator())
    expected = one_bright_pixel(10 - shift_y, 12 - shift_x)
    assert torch.allclose(warped, expected, rtol=0, atol=1e-4)


def test_a_quarter_turn_moves_a_bright_pixel(monkeypatch):
    # draw 1 with degrees 90: theta = [[cos, -sin], [sin, cos]] = [[0, -1], [1, 0]], so output
    # (x, y) reads input (-y, x): output[r, c] = input[c, 27 - r]. The pixel at row 4, column 20
    # lands where c = 4 and 27 - r = 20: row 7, column 4.
    fixed_draws(monkeypatch, [[1.0, 0.0, 0.0]])
    warped = Augment(degrees=90.0)(one_bright_pixel(4, 20), torch.Generator())
    assert torch.allclose(warped, one_bright_pixel(7, 4), rtol=0, atol=1e-4)


def test_augment_draws_differ_per_image_and_follow_the_generator():
    images = one_bright_pixel(14, 14).expand(4, 1, 28, 28)
    augment = Augment(degrees=15.0, translate=0.1)
    first = augment(images, torch.Generator().manual_seed(5))
    second = augment(images, torch.Generator().manual_seed(5))
    assert torch.equal(first, second)
    assert not torch.allclose(first[0], first[1])
    assert not torch.equal(first, augment(images, torch.Generator().manual_seed(6)))
