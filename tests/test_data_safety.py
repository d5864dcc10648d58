"""Issue 23, the data layer: line labels that miss their frames are errors, train/test sets without a val
split, .bmp frames, grey frames with a small coloured on-screen symbol; mask values stay strict."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import cv2
import numpy as np
import pytest

from conftest import run_cli, write_scene
from seaSky.data import check, convert
from seaSky.data.convert_formats import check_line_in_frame, line_mask
from seaSky.data.datamodule import IRSegDataModule
from seaSky.data.folder import check_sample, find_samples, find_splits, read_image, read_mask
from seaSky.errors import DataError
from seaSky.frames import list_inputs
from test_convert import _smd

H, W = 32, 40


def _frames(folder: Path, n: int) -> list[str]:
    """n grey 8-bit 40x32 noise frames f0.png ... in folder; their file names."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        noise = np.random.default_rng(i).integers(0, 256, (H, W), dtype=np.uint8)
        assert cv2.imwrite(str(folder / f"f{i}.png"), noise)
    return [f"f{i}.png" for i in range(n)]


def _convert(capsys: pytest.CaptureFixture, *args: object) -> tuple[int, str, str]:
    status = convert.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return status, out, err


# ------------------------------------------------------------------------------------------------------
# item 8: a line label that misses its frame is an error naming the file, the line and the image


def test_lines_json_labelled_at_another_size_is_an_error(tmp_path: Path, capsys) -> None:
    src = tmp_path / "set"
    names = _frames(src / "img", 3)
    entries = [  # labels made on 1920x1080 frames, the frames are 40x32
        {"x_coordinate": [0, 960, 1910], "y_coordinate": [500, 520, 540], "raw_file": f"img/{name}"}
        for name in names
    ]
    (src / "labels.json").write_text("".join(json.dumps(e) + "\n" for e in entries))
    root = tmp_path / "root"
    status, out, err = _convert(capsys, "lines-json", src / "labels.json", root)
    assert (status, out) == (2, "")
    assert err == (
        f"error: {src / 'labels.json'}:1: {src / 'img/f0.png'}: points span x 0..1910, y 500..540 but the "
        "frame is 40x32 (WxH): labelled at another size?\n"
    )
    assert not root.exists()  # nothing written


def test_lines_csv_and_json_lines_that_miss_the_frame_are_errors(tmp_path: Path, capsys) -> None:
    src = tmp_path / "set"
    _frames(src, 3)
    cases = {  # points within the frame's margin, but the line runs above or below it
        "f0.png,0,-3,39,-1.5": "the line (y = -3 at x = 0, -1.5 at x = 39) misses the 40x32 (WxH) frame: "
        "its mask would be all sea (the line is above it)",
        "f1.png,3,33,20,35": "the line (y = 32.65 at x = 0, 37.24 at x = 39) misses the 40x32 (WxH) frame: "
        "its mask would be all sky (the line is below it)",
    }
    for row, message in cases.items():
        (src / "l.csv").write_text(f"file,x1,y1,x2,y2\nf2.png,0,10,39,12\n{row}\n")
        status, out, err = _convert(capsys, "lines-csv", src / "l.csv", tmp_path / "root")
        image = src / row.split(",")[0]
        assert (status, out) == (2, "")
        assert err.startswith(f"error: {src / 'l.csv'}:3: {image}: {message}") and err.count("\n") == 1, err
        assert not (tmp_path / "root").exists()
    below = {"x_coordinate": [0, 39], "y_coordinate": [33, 36], "raw_file": "f0.png"}  # negative = no point
    (src / "l.json").write_text(json.dumps(below))
    with pytest.raises(DataError, match=r"l.json:1: .*f0.png: the line .* misses the 40x32 \(WxH\) frame"):
        convert.convert("lines-json", src / "l.json", tmp_path / "root")


def test_smd_mat_point_outside_the_frame_is_an_error(tmp_path: Path, capsys) -> None:
    _smd(tmp_path / "smd", "v", [(16.0, 12.0, 0.0, 1.0), (960.0, 540.0, 0.0, 1.0)])  # frame 1 at 1920x1080
    mat, video = tmp_path / "smd/HorizonGT/v_HorizonGT.mat", tmp_path / "smd/Videos/v.avi"
    status, out, err = _convert(capsys, "smd-mat", mat, tmp_path / "root")
    assert (status, out) == (2, "")
    assert err.startswith(
        f"error: {mat}: frame 1 of {video}: points span x 960..960, y 540..540 but the frame"
    )
    assert "labelled at another size?" in err and not (tmp_path / "root").exists()


def test_lines_partly_outside_and_tusimple_markers_still_convert(tmp_path: Path) -> None:
    src = tmp_path / "set"
    names = _frames(src, 3)
    rows = [  # a steep line clipped by the frame, points on the frame's edges, TuSimple's -2 = no point
        {"x_coordinate": [0, 39], "y_coordinate": [38.3, 2.3], "raw_file": names[0]},
        {"x_coordinate": [0, 39.5], "y_coordinate": [0, 31.5], "raw_file": names[1]},
        {"x_coordinate": [-2, 0, 20, 39], "y_coordinate": [-2, 14, 15, 16], "raw_file": names[2]},
    ]
    (src / "l.json").write_text("".join(json.dumps(r) + "\n" for r in rows))
    done = convert.convert("lines-json", src / "l.json", tmp_path / "root")
    assert done.n_frames == 3 and done.check is not None and done.check.problems == []
    mask = cv2.imread(str(tmp_path / "root/masks/f0.png"), cv2.IMREAD_UNCHANGED)
    np.testing.assert_array_equal(mask, line_mask(38.3, -36 / 39, H, W) * 255)


def test_check_line_in_frame_margin() -> None:
    line = (10.0, 0.0)
    check_line_in_frame("x", [-10, 49], [10, 10], line, H, W)  # within a quarter of the frame outside
    with pytest.raises(DataError, match="x: points span x -10..51, y 10..10 but the frame is 40x32"):
        check_line_in_frame("x", [-10, 51], [10, 10], line, H, W)
    check_line_in_frame("x", [1, 40], [11, 11], line, H, W, origin=1)  # MATLAB: first pixel centre at 1
    with pytest.raises(DataError, match=r"x: the line \(y = 40 at x = 1, 40 at x = 40\) misses"):
        check_line_in_frame("x", [1, 40], [40, 40], (39.0, 0.0), H, W, origin=1)


# ------------------------------------------------------------------------------------------------------
# train and test but no val: val is drawn from train (seeded), with a note; data.check accepts it


def _split_files_without_val(root: Path) -> Path:
    for i in range(12):
        write_scene(root / "images", root / "masks", f"f{i:02d}", seed=i)
    (root / "splits").mkdir()
    (root / "splits/train.txt").write_text("".join(f"f{i:02d}\n" for i in range(10)))
    (root / "splits/test.txt").write_text("f10\nf11\n")
    return root


def _split_folders_without_val(root: Path) -> Path:
    for k, (split, n) in enumerate([("train", 9), ("test", 2)]):
        for i in range(n):
            write_scene(root / split / "images", root / split / "masks", f"{split}{i}", seed=10 * k + i)
    return root


@pytest.mark.parametrize("layout", ["split files", "split folders"])
def test_no_val_split_is_drawn_from_train(tmp_path: Path, caplog, capsys, layout: str) -> None:
    if layout == "split files":
        root, n_train, missing = _split_files_without_val(tmp_path / "d"), 10, "splits/val.txt"
    else:
        root, n_train, missing = _split_folders_without_val(tmp_path / "d"), 9, "val"
    with caplog.at_level(logging.INFO, logger="seaSky.data.datamodule"):
        dm = IRSegDataModule(root, image_size=(32, 40), batch_size=2)
        dm.setup("fit")
    train, val = dm.datasets["train"].stems, dm.datasets["val"].stems
    assert len(val) == 1 and len(train) == n_train - 1 and not set(val) & set(train)
    assert len(dm.datasets["test"]) == 2
    note = (
        f"{root / missing}: no val split; validation uses 1 of the {n_train} train frames (10 %, at least 1, "
        "drawn with seed 0), which are not trained on"
    )
    assert note in caplog.text
    assert next(iter(dm.val_dataloader()))["image"].shape == (1, 1, 32, 40)
    again = IRSegDataModule(root, image_size=(32, 40))  # a fixed seed: the same frames every run
    again.setup("fit")
    assert again.datasets["val"].stems == val
    status = check.main([str(root)])
    out = capsys.readouterr().out.splitlines()
    assert (
        status == 0
        and f"info: {note}" in out
        and out[-1].startswith(f"{root}: {n_train + 2} images, 0 problem")
    )


def test_no_val_with_one_train_frame_or_no_test_is_a_problem(tmp_path: Path) -> None:
    root = _split_files_without_val(tmp_path / "d")
    (root / "splits/train.txt").write_text("f00\n")
    _, problems = find_splits(root)
    assert (
        f"{root}: split 'val' is empty (no {root / 'splits/val.txt'}, and train has 1 frame(s), too few"
        in (problems[-1])
    )
    (root / "splits/test.txt").unlink()  # train only: val and test are both missing
    _, problems = find_splits(root)
    assert f"{root / 'splits/val.txt'}: split file is missing" in problems
    assert f"{root / 'splits/test.txt'}: split file is missing" in problems
    folders = _split_folders_without_val(tmp_path / "f")
    (folders / "test/images").rename(folders / "test/pictures")
    with pytest.raises(DataError, match=r"expected ROOT/images \+ ROOT/masks, or ROOT/\{train,val,test\}"):
        find_splits(folders)


# ------------------------------------------------------------------------------------------------------
# .bmp frames


def test_bmp_frames_and_masks_are_read_checked_and_listed(tmp_path: Path) -> None:
    root = tmp_path / "bmp"
    for i in range(10):
        write_scene(root / "images", root / "masks", f"b{i}", seed=i, suffix=".bmp")
        mask = cv2.imread(str(root / "masks" / f"b{i}.png"), cv2.IMREAD_UNCHANGED)
        (root / "masks" / f"b{i}.png").unlink()
        cv2.imwrite(str(root / "masks" / f"b{i}.bmp"), mask)
    samples, problems = find_samples(root)
    assert problems == [] and len(samples) == 10
    assert all(s.image_path.suffix == ".bmp" and s.mask_path.suffix == ".bmp" for s in samples)
    assert check.check_folder(root).problems == []
    dm = IRSegDataModule(root, image_size=(32, 40), batch_size=2)
    dm.setup("fit")
    assert sum(len(ds) for ds in dm.datasets.values()) == 10
    assert set(np.unique(dm.datasets["train"].masks).tolist()) == {0, 1}
    assert [p.name for p in list_inputs(root / "images")] == [f"b{i}.bmp" for i in range(10)]
    assert list_inputs(root / "images" / "b3.bmp") == [root / "images" / "b3.bmp"]


# ------------------------------------------------------------------------------------------------------
# a grey frame with a small coloured on-screen symbol is grey (with a warning); real colour is an error


def _osd_frame(path: Path, n_coloured: int) -> np.ndarray:
    """A grey frame stored as BGR with a red symbol on its first n_coloured pixels; the grey frame."""
    grey = np.random.default_rng(0).integers(0, 200, (H, W), dtype=np.uint8)
    bgr = np.dstack([grey] * 3)
    bgr.reshape(-1, 3)[:n_coloured] = (0, 0, 255)
    assert cv2.imwrite(str(path), bgr)
    return grey


def test_grey_frame_with_a_coloured_symbol_is_read_as_grey_with_a_warning(tmp_path: Path, caplog) -> None:
    grey = _osd_frame(tmp_path / "osd.png", 20)  # 20 of 1280 pixels: 1.6 %
    with caplog.at_level(logging.WARNING, logger="seaSky.data.folder"):
        image = read_image(tmp_path / "osd.png")
    assert image.shape == (H, W) and image.dtype == np.float32
    np.testing.assert_array_equal(image.ravel()[20:], grey.ravel()[20:])  # the rest as it is
    assert (image.ravel()[:20] == 85).all()  # the symbol: the mean of (0, 0, 255)
    assert f"{tmp_path / 'osd.png'}: 20 of 1280 pixels (1.56 %) are coloured" in caplog.text


def test_colour_image_is_still_an_error_and_masks_stay_strict(tmp_path: Path) -> None:
    _osd_frame(tmp_path / "colour.png", 40)  # 3.1 % coloured: a colour image
    with pytest.raises(DataError) as err:
        read_image(tmp_path / "colour.png")
    assert str(err.value) == (
        f"{tmp_path / 'colour.png'}: image is in colour (3.1 % of its pixels have channels that differ, more "
        "than the 2 % an on-screen symbol may take); a greyscale image is expected"
    )
    photo = np.random.default_rng(1).integers(0, 256, (H, W, 3), dtype=np.uint8)
    cv2.imwrite(str(tmp_path / "photo.jpg"), photo)
    with pytest.raises(DataError, match="photo.jpg: image is in colour"):
        read_image(tmp_path / "photo.jpg")
    mask = np.dstack([np.zeros((H, W), np.uint8)] * 3)
    mask[0, 0] = (0, 0, 255)  # one coloured pixel is enough to reject a mask
    cv2.imwrite(str(tmp_path / "m.png"), mask)
    with pytest.raises(DataError, match="m.png: mask has colour channels that differ"):
        read_mask(tmp_path / "m.png")
    for suffix in (".png", ".bmp"):
        cv2.imwrite(str(tmp_path / f"grey{suffix}"), np.array([[0, 128], [255, 0]], np.uint8))
        with pytest.raises(DataError, match=f"grey{suffix}: mask values must be .* found 0, 128, 255"):
            read_mask(tmp_path / f"grey{suffix}")
        cv2.imwrite(str(tmp_path / f"ok{suffix}"), np.array([[0, 1], [1, 0]], np.uint8))
        assert read_mask(tmp_path / f"ok{suffix}").tolist() == [[0, 1], [1, 0]]


def test_a_folder_with_an_osd_frame_trains_and_checks(tmp_path: Path) -> None:
    root = tmp_path / "osd"
    for i in range(10):
        write_scene(root / "images", root / "masks", f"f{i}", seed=i)
    image = cv2.imread(str(root / "images/f3.png"), cv2.IMREAD_UNCHANGED)
    bgr = np.dstack([image] * 3)
    bgr[2:5, 2:5] = (0, 255, 0)  # a green icon of 9 pixels
    cv2.imwrite(str(root / "images/f3.png"), bgr)
    image_read, mask, problems = check_sample(find_samples(root)[0][3])
    assert problems == [] and image_read is not None and mask is not None
    assert check.check_folder(root).problems == []
    IRSegDataModule(root, image_size=(32, 40)).setup("fit")


def test_convert_cli_refuses_labels_at_another_size(tmp_path: Path) -> None:
    src = tmp_path / "set"
    names = _frames(src, 3)
    rows = "".join(f"{name},0,500,1910,540\n" for name in names)
    (src / "l.csv").write_text(f"file,x1,y1,x2,y2\n{rows}")
    done = run_cli("data.convert", "lines-csv", str(src / "l.csv"), str(tmp_path / "root"), timeout=120)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        f"error: {src / 'l.csv'}:2: {src / 'f0.png'}: points span x 0..1910, y 500..540 but the frame is "
        "40x32 (WxH): labelled at another size?\n"
    )
    assert not (tmp_path / "root").exists()
