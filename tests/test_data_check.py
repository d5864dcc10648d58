"""python -m seaSky.data.check, overlapping splits at training start, and evaluation with data.split=all."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from conftest import run_cli, write_scene
from seaSky.data.check import check_folder, main
from seaSky.data.datamodule import IRSegDataModule
from seaSky.data.folder import pixel_digest, read_image
from seaSky.errors import ConfigError, DataError


def _folder(root: Path, n: int, seed: int = 0) -> Path:
    """ROOT/images + ROOT/masks with n distinct 32x40 frames f00, f01, ..."""
    for i in range(n):
        write_scene(root / "images", root / "masks", f"f{i:02d}", seed=seed + i)
    return root


def _splits(root: Path, **stems: str) -> None:
    (root / "splits").mkdir(exist_ok=True)
    for name, text in stems.items():
        (root / "splits" / f"{name}.txt").write_text(text.replace(" ", "\n") + "\n")


def _run(root: Path, capsys: pytest.CaptureFixture) -> tuple[int, list[str], str]:
    """main([root]): exit status, stdout lines, stderr."""
    status = main([str(root)])
    out, err = capsys.readouterr()
    return status, out.splitlines(), err


def test_clean_folder_with_split_files(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    root = _folder(tmp_path / "ok", 6)
    _splits(root, train="f00 f01 f02 f03", val="f04", test="f05")
    status, lines, _ = _run(root, capsys)
    assert (status, lines) == (0, [f"{root}: 6 images, 0 problem(s)"])


def test_folder_without_split_files_is_info_not_a_problem(tmp_path: Path, capsys) -> None:
    root = _folder(tmp_path / "ok", 10)
    status, lines, _ = _run(root, capsys)
    assert status == 0
    assert lines == [
        f"info: {root / 'splits'}: no split files; training splits the 10 images at random "
        "([0.8, 0.1, 0.1], seed 0)",
        f"{root}: 10 images, 0 problem(s), 1 note(s)",
    ]


def _bad_folder(root: Path) -> Path:
    """One problem of each kind (and one image in no split file, a note)."""
    _folder(root, 8)
    images, masks = root / "images", root / "masks"
    cv2.imwrite(str(masks / "f01.png"), np.full((32, 40), 128, np.uint8))  # not {0,1} / {0,255}
    cv2.imwrite(str(masks / "f02.png"), np.zeros((16, 20), np.uint8))  # wrong size
    (masks / "f03.png").unlink()  # missing mask
    (images / "f04.png").write_bytes(b"not a png")  # unreadable
    shutil.copy(images / "f05.png", images / "copy05.png")  # f05's pixels under another stem
    shutil.copy(masks / "f05.png", masks / "copy05.png")
    write_scene(images, masks, "orphan", seed=50)
    (images / "orphan.png").unlink()  # mask without image
    write_scene(images, masks, "spare", seed=51)  # in no split file
    _splits(root, train="f00 f01 f02 f03 f05 ghost", val="f06 f00", test="f07 f04 copy05")
    return root


def test_every_problem_is_listed_by_the_cli(tmp_path: Path) -> None:
    root = _bad_folder(tmp_path / "bad")
    done = run_cli("data.check", str(root), timeout=120)
    assert done.returncode == 1, done.stderr
    im, ma, sp = root / "images", root / "masks", root / "splits"
    assert done.stdout.splitlines() == [
        f"{ma / 'orphan.png'}: orphan mask, no image with stem 'orphan' in {im}",
        f"{im / 'f03.png'}: no mask f03.png in {ma}",
        f"{sp / 'train.txt'}: stem 'ghost' has no image in the images folder",
        f"{sp / 'val.txt'}: stem 'f00' is listed again (already in train.txt)",
        f"{ma / 'f01.png'}: mask values must be {{0,1}} or {{0,255}} (1/255 = sea), found 128",
        f"{im / 'f02.png'}: image is 40x32 but its mask f02.png is 20x16 (WxH)",
        f"{im / 'f04.png'}: cannot be read as an image (corrupt or unsupported format)",
        f"{im / 'copy05.png'}: in test, has the same pixels as {im / 'f05.png'} in train",
        f"info: {sp}: 1 image(s) in no split file (not trained on): spare.png",
        f"{root}: 10 images, 8 problem(s), 1 note(s)",
    ]


def test_training_lists_the_same_content_problems(tmp_path: Path) -> None:
    root = _bad_folder(tmp_path / "bad")
    with pytest.raises(DataError) as err:
        IRSegDataModule(root, image_size=(32, 40)).setup("fit")
    # training reads only the split files' frames, so spare.png is not checked; all else is the same
    assert sorted(line.removeprefix("  - ") for line in str(err.value).splitlines()[1:]) == sorted(
        check_folder(root).problems
    )


def test_bad_root_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "no_layout").mkdir()
    (tmp_path / "empty" / "images").mkdir(parents=True)
    cases = {
        "missing": "data folder does not exist",
        "no_layout": "expected ROOT/images + ROOT/masks",
        "empty": "no images (.png, .tif, .tiff, .jpg, .jpeg, .bmp) in it",
    }
    for name, message in cases.items():
        status, lines, err = _run(tmp_path / name, capsys)
        assert (status, lines) == (2, [])
        assert err.startswith(f"error: {tmp_path / name}: {message}") and err.count("\n") == 1


def _split_folders(root: Path) -> Path:
    """ROOT/{train,val,test}/{images,masks} with distinct frames."""
    for k, (split, n) in enumerate([("train", 4), ("val", 1), ("test", 2)]):
        for i in range(n):
            write_scene(root / split / "images", root / split / "masks", f"{split}{i}", seed=10 * k + i)
    return root


def test_the_same_stem_in_train_and_test_folders_is_an_error(tmp_path: Path) -> None:
    root = _split_folders(tmp_path / "sets")
    write_scene(root / "test" / "images", root / "test" / "masks", "train1", seed=99)  # other pixels
    expected = f"{root / 'test/images/train1.png'}: stem 'train1' is in test and also in train "
    expected += f"({root / 'train/images/train1.png'})"
    assert check_folder(root).problems == [expected]
    with pytest.raises(DataError) as err:
        IRSegDataModule(root, image_size=(32, 40)).setup("fit")
    assert str(err.value).splitlines() == [f"1 problem(s) in data set {root}:", f"  - {expected}"]


def test_the_same_pixels_in_train_and_test_is_an_error(tmp_path: Path) -> None:
    root = _split_folders(tmp_path / "sets")
    # the same frame as a 16-bit TIFF: other file, other format, the same pixel values
    image = cv2.imread(str(root / "train/images/train2.png"), cv2.IMREAD_UNCHANGED).astype(np.uint16)
    cv2.imwrite(str(root / "test/images/copy.tif"), image)
    shutil.copy(root / "train/masks/train2.png", root / "test/masks/copy.png")
    assert pixel_digest(read_image(root / "test/images/copy.tif")) == pixel_digest(
        read_image(root / "train/images/train2.png")
    )
    expected = f"{root / 'test/images/copy.tif'}: in test, has the same pixels as "
    expected += f"{root / 'train/images/train2.png'} in train"
    assert check_folder(root).problems == [expected]
    with pytest.raises(DataError, match="copy.tif: in test, has the same pixels as .*train2.png in train"):
        IRSegDataModule(root, image_size=(32, 40)).setup("fit")


def test_identical_frames_in_one_split_are_a_note(tmp_path: Path) -> None:
    root = _folder(tmp_path / "ok", 6)
    shutil.copy(root / "images/f01.png", root / "images/again.png")
    shutil.copy(root / "masks/f01.png", root / "masks/again.png")
    _splits(root, train="f00 f01 f02 again", val="f03 f04", test="f05")
    found = check_folder(root)
    assert found.problems == []
    assert found.notes == [
        f"{root / 'images/again.png'}: has the same pixels as {root / 'images/f01.png'} (both in train)"
    ]
    IRSegDataModule(root, image_size=(32, 40)).setup("fit")  # training accepts it


def _five_labelled(root: Path) -> Path:
    """5 labelled frames and one without a mask, no split files."""
    _folder(root, 5)
    write_scene(root / "images", root / "masks", "unlabelled", seed=77)
    (root / "masks" / "unlabelled.png").unlink()
    return root


def test_split_all_is_every_image_with_a_mask(tmp_path: Path) -> None:
    plain = _folder(tmp_path / "plain", 5)
    with pytest.raises(DataError, match=r"split 'val' is empty \(random split \[0.8, 0.1, 0.1\] of 5 images"):
        IRSegDataModule(plain, image_size=(32, 40)).setup("test")  # the default split of 5 frames
    root = _five_labelled(tmp_path / "five")
    dm = IRSegDataModule(root, image_size=(32, 40), split="all")
    dm.setup("test")
    assert dm.datasets["test"].stems == [f"f{i:02d}" for i in range(5)]
    assert len(dm.datasets["train"]) == len(dm.datasets["val"]) == 0
    with pytest.raises(ConfigError, match="data.split=all is for evaluation"):
        IRSegDataModule(root, image_size=(32, 40), split="all").setup("fit")
    with pytest.raises(ConfigError, match="data.split must be test or all, got 'val'"):
        IRSegDataModule(root, split="val")


def test_evaluate_split_all_scores_every_labelled_frame(tmp_path: Path, tiny_checkpoint: Path) -> None:
    root = _five_labelled(tmp_path / "five")
    run_dir = tmp_path / "run"
    args = [f"ckpt_path={tiny_checkpoint}", "data=folder", f"data.root={root}", "data.split=all"]
    done = run_cli("evaluate", *args, f"hydra.run.dir={run_dir}", "n_worst=2")
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads((run_dir / "results.json").read_text())
    assert results["n_images"] == 5 and results["split"] == "all"
    with open(run_dir / "per_image.csv") as f:
        assert [row["stem"] for row in csv.DictReader(f)] == [f"f{i:02d}" for i in range(5)]
