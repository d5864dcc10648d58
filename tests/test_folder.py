"""Reading and validating an image/mask folder: every bad case gives a message naming its file."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from conftest import write_scene
from seaSky.data.datamodule import IRSegDataModule
from seaSky.data.folder import find_splits, read_image, read_mask
from seaSky.data.preprocess import normalize_image
from seaSky.errors import DataError


def _setup(root: Path, **kwargs) -> IRSegDataModule:
    dm = IRSegDataModule(root, image_size=(32, 40), batch_size=4, **kwargs)
    dm.setup("fit")
    return dm


def test_random_split_and_batches(ir_folder: Path) -> None:
    dm = _setup(ir_folder)
    assert {k: len(v) for k, v in dm.datasets.items()} == {"train": 16, "val": 2, "test": 2}
    batch = next(iter(dm.train_dataloader()))
    assert batch["image"].shape == (4, 1, 32, 40) and batch["image"].dtype.is_floating_point
    assert set(batch["mask"].unique().tolist()) <= {0, 1}
    assert float(batch["image"].min()) >= 0.0 and float(batch["image"].max()) <= 1.0


def test_split_files_are_used(ir_folder: Path) -> None:
    (ir_folder / "splits").mkdir()
    (ir_folder / "splits" / "train.txt").write_text("\n".join(f"f{i:03d}" for i in range(10)) + "\n")
    (ir_folder / "splits" / "val.txt").write_text("f010\nf011\n")
    (ir_folder / "splits" / "test.txt").write_text("f012\n")
    dm = _setup(ir_folder)
    assert dm.datasets["val"].stems == ["f010", "f011"]
    assert len(dm.datasets["train"]) == 10


def test_split_folders_layout(tmp_path: Path) -> None:
    for k, (split, n) in enumerate([("train", 6), ("val", 2), ("test", 2)]):
        for i in range(n):  # distinct frames: the same pixels in two splits is an error
            write_scene(
                tmp_path / split / "images", tmp_path / split / "masks", f"{split}{i}", seed=10 * k + i
            )
    dm = _setup(tmp_path)
    assert [len(dm.datasets[s]) for s in ("train", "val", "test")] == [6, 2, 2]


def test_other_size_16bit_and_tiff_are_resized(tmp_path: Path) -> None:
    for i in range(10):
        write_scene(
            tmp_path / "images",
            tmp_path / "masks",
            f"a{i}",
            size=(72, 96),
            bits=16,
            suffix=".tif" if i % 2 else ".png",
            seed=i,
        )
    dm = _setup(tmp_path)
    assert dm.datasets["train"].images.shape[1:] == (32, 40)


def test_rgb_with_equal_channels_is_grey(tmp_path: Path) -> None:
    grey = (np.arange(12, dtype=np.uint8).reshape(3, 4)) * 20
    cv2.imwrite(str(tmp_path / "rgb.png"), np.dstack([grey] * 3))
    assert np.array_equal(read_image(tmp_path / "rgb.png"), grey.astype(np.float32))


def test_normalize_percentile_is_robust_to_hot_pixels() -> None:
    image = np.full((50, 50), 1000.0)
    image[25:] = 2000.0
    image[0, 0] = 16383.0  # one hot pixel must not squash the scene's contrast
    out = normalize_image(image)
    assert out.min() == 0.0 and out.max() == 1.0
    assert out[30, 30] == pytest.approx(1.0) and out[10, 10] == pytest.approx(0.0)


def _bad_folder(tmp_path: Path) -> Path:
    root = tmp_path / "bad"
    for i in range(12):
        write_scene(root / "images", root / "masks", f"ok{i:02d}", seed=i)
    write_scene(root / "images", root / "masks", "grey_mask", seed=101)  # seeds unlike ok*'s: no copies
    cv2.imwrite(str(root / "masks" / "grey_mask.png"), np.full((32, 40), 128, np.uint8))
    write_scene(root / "images", root / "masks", "small_mask", seed=102)
    cv2.imwrite(str(root / "masks" / "small_mask.png"), np.zeros((16, 20), np.uint8))
    write_scene(root / "images", root / "masks", "no_mask", seed=103)
    (root / "masks" / "no_mask.png").unlink()
    write_scene(root / "images", root / "masks", "orphan", seed=104)
    (root / "images" / "orphan.png").unlink()
    write_scene(root / "images", root / "masks", "corrupt", seed=105)
    (root / "images" / "corrupt.png").write_bytes(b"not a png at all")
    return root


def test_all_problems_are_listed_at_once(tmp_path: Path) -> None:
    root = _bad_folder(tmp_path)
    (root / "splits").mkdir()
    stems = ["ok00", "grey_mask", "small_mask", "no_mask", "corrupt", "ok01", "ok02"]
    (root / "splits" / "train.txt").write_text("\n".join(stems) + "\nghost\nok01\n")
    (root / "splits" / "val.txt").write_text("ok03\nok00\n")
    (root / "splits" / "test.txt").write_text("")
    cv2.imwrite(str(root / "masks" / "ok02.tif"), np.zeros((32, 40), np.uint8))
    with pytest.raises(DataError) as err:
        _setup(root)
    lines = str(err.value).splitlines()
    # layout problems (found from file names) and content problems (found by decoding) in one report
    expected = [
        "orphan.png: orphan mask",
        "no_mask.png: no mask no_mask.png",
        "train.txt: stem 'ghost' has no image",
        "train.txt: stem 'ok01' is listed again (already in train.txt)",
        "val.txt: stem 'ok00' is listed again (already in train.txt)",
        "ok02.tif: duplicate mask stem 'ok02'",
        "split 'test' is empty",
        "grey_mask.png: mask values must be {0,1} or {0,255} (1/255 = sea), found 128",
        "corrupt.png: cannot be read as an image",
    ]
    for text in expected:
        assert sum(text in line for line in lines) == 1, f"{text!r} not reported once in:\n{err.value}"
    assert any("small_mask.png" in line and "40x32" in line and "20x16" in line for line in lines)
    assert lines[0] == f"{len(lines) - 1} problem(s) in data set {root}:"
    assert len(lines) - 1 == len(expected) + 1


def test_colour_mask_is_rejected(tmp_path: Path) -> None:
    mask = np.zeros((8, 8, 3), np.uint8)
    mask[4:, :, 2] = 255
    cv2.imwrite(str(tmp_path / "m.png"), mask)
    with pytest.raises(DataError, match="m.png: mask has colour channels that differ"):
        read_mask(tmp_path / "m.png")


def test_missing_root_and_unknown_layout(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="nope: data folder does not exist"):
        find_splits(tmp_path / "nope")
    (tmp_path / "stuff").mkdir()
    with pytest.raises(DataError, match="expected ROOT/images"):
        find_splits(tmp_path / "stuff")
