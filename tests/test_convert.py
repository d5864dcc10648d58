"""python -m seaSky.data.convert: public annotations (horizon lines, SMD .mat + video, sky and palette
masks) -> a seaSky folder that passes seaSky.data.check. Tiny hand-made inputs; no downloads."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from scipy.io import savemat

from conftest import run_cli
from seaSky.data.convert import convert, main, split_counts
from seaSky.data.convert_formats import Options, line_mask
from seaSky.data.folder import read_horizon_truth
from seaSky.errors import DataError
from seaSky.io import MANIFEST

H, W = 24, 32


def _image(path: Path, seed: int = 0, bits: int = 8, colour: bool = False) -> Path:
    """A tiny noise frame (8- or 16-bit, greyscale or real colour)."""
    rng = np.random.default_rng(seed)
    top = 255 if bits == 8 else 65535
    shape = (H, W, 3) if colour else (H, W)
    data = rng.integers(0, top, shape, endpoint=True).astype(np.uint8 if bits == 8 else np.uint16)
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), data)
    return path


def _meta(root: Path) -> dict[str, dict[str, str]]:
    with open(root / "meta.csv", newline="") as fh:
        return {row["stem"]: row for row in csv.DictReader(fh)}


def _mask(root: Path, stem: str) -> np.ndarray:
    return cv2.imread(str(root / "masks" / f"{stem}.png"), cv2.IMREAD_UNCHANGED)


def _run(capsys: pytest.CaptureFixture, *args: object) -> tuple[int, list[str], str]:
    """main(args): exit status, stdout lines, stderr."""
    status = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return status, out.splitlines(), err


def _first_sea_rows(mask: np.ndarray) -> np.ndarray:
    """Per column, the first sea row (the mask's sky->sea boundary lies half a pixel above it)."""
    sea = mask > 0
    assert (np.diff(sea.astype(int), axis=0) >= 0).all(), "sea must be one block at the bottom of each column"
    return np.where(sea.any(axis=0), sea.argmax(axis=0), mask.shape[0])


# ------------------------------------------------------------------------------------------------------
# line formats


def test_lines_json_masks_follow_the_least_squares_line(tmp_path: Path, capsys) -> None:
    src = tmp_path / "set"
    rng = np.random.default_rng(1)
    entries, lines = [], {}
    for i, (a, b) in enumerate([(7.3, 0.21), (15.6, -0.33), (11.5, 0.0)]):
        raw = f"clips/c{i}/images/frame{i}.png"
        _image(src / raw, seed=i, bits=16)
        xs = [0, 5, 10, 16, 21, 26, 31]
        ys = [a + b * x + rng.normal(0, 0.4) for x in xs]
        lines[f"frame{i}"] = np.polyfit(xs, ys, 1)[::-1]  # (a, b) of the least-squares fit
        entries.append({"x_coordinate": [*xs, -2], "y_coordinate": [*ys, -2], "raw_file": raw})
    (src / "test_data.json").write_text("\n".join(json.dumps(e) for e in entries) + "\n\n")

    status, out, err = _run(capsys, "lines-json", src / "test_data.json", tmp_path / "root")
    assert (status, err) == (0, ""), out
    root = tmp_path / "root"
    assert out[-1] == f"{root}: 3 images, 0 problem(s)"
    meta = _meta(root)
    assert sorted(meta) == ["frame0", "frame1", "frame2"]  # stems kept
    for stem, (a, b) in lines.items():
        row = meta[stem]
        assert float(row["y_left"]) == pytest.approx(a, abs=1e-3)
        assert float(row["y_right"]) == pytest.approx(a + b * (W - 1), abs=1e-3)
        assert row["line_y_left"] == row["y_left"]
        mask = _mask(root, stem)
        assert mask.dtype == np.uint8 and set(np.unique(mask)) <= {0, 255}
        # the boundary (half a pixel above the first sea row) is within half a pixel of the line
        boundary = _first_sea_rows(mask) - 0.5
        assert np.abs(boundary - (a + b * np.arange(W))).max() <= 0.5 + 1e-9
        np.testing.assert_array_equal(mask, line_mask(a, b, H, W) * 255)
        # 16-bit image copied byte for byte
        source = src / f"clips/c{stem[-1]}/images/{stem}.png"
        assert (root / "images" / f"{stem}.png").read_bytes() == source.read_bytes()
        assert cv2.imread(str(root / "images" / f"{stem}.png"), cv2.IMREAD_UNCHANGED).dtype == np.uint16
    truth = read_horizon_truth(root)  # what evaluate reads
    assert set(truth) == set(lines)


def test_lines_json_folder_source_and_split_all(tmp_path: Path) -> None:
    src = tmp_path / "set"
    for i in range(4):
        _image(src / f"img/f{i}.png", seed=i)
        entry = {"x_coordinate": [0, 31], "y_coordinate": [10 + i, 12 + i], "raw_file": f"img/f{i}.png"}
        (src / f"part{i % 2}.json").open("a").write(json.dumps(entry) + "\n")
    done = convert("lines-json", src, tmp_path / "root", split="all")
    assert done.n_frames == 4 and done.splits is None
    assert not (tmp_path / "root" / "splits").exists()
    assert sorted(p.name for p in (tmp_path / "root" / "images").iterdir()) == [f"f{i}.png" for i in range(4)]
    assert done.check is not None and done.check.problems == []
    # for evaluation only, two frames are enough: no training split to leave empty
    two = convert("lines-json", src / "part0.json", tmp_path / "two", split="all")
    assert two.n_frames == 2 and two.check is not None and two.check.problems == []
    # a video's repeated frames are no leak between splits that evaluation does not use
    for i in range(6):
        _image(tmp_path / "rep" / f"img/r{i}.png", seed=0)
        entry = {"x_coordinate": [0, 31], "y_coordinate": [10, 12], "raw_file": f"img/r{i}.png"}
        (tmp_path / "rep" / "l.json").open("a").write(json.dumps(entry) + "\n")
    repeated = convert("lines-json", tmp_path / "rep" / "l.json", tmp_path / "rep_root", split="all")
    assert repeated.check is not None and repeated.check.problems == []


def test_lines_csv_line_leaving_the_frame_is_clipped_to_it(tmp_path: Path) -> None:
    src = tmp_path / "csvset"
    for i, stem in enumerate(("mid", "steep", "flat")):
        _image(src / "frames" / f"{stem}.png", seed=i)
    (src / "lines.csv").write_text(
        "\ufefffile,x1,y1,x2,y2\n"  # a spreadsheet's byte-order mark before the header
        "frames/mid.png,0,10.25,31,4.75\n"
        "frames/steep.png,0,28,31,-4\n"  # enters below the frame, leaves above it: clipped, not an error
        "frames/flat.png,0,12,31,12\n"
    )
    done = convert("lines-csv", src / "lines.csv", tmp_path / "root")
    assert done.check is not None and done.check.problems == []
    assert (done.n_lines, done.n_in_view) == (3, 3)
    root, meta = tmp_path / "root", _meta(tmp_path / "root")
    assert (float(meta["mid"]["y_left"]), float(meta["mid"]["y_right"])) == (10.25, 4.75)
    assert (float(meta["steep"]["line_y_left"]), float(meta["steep"]["line_y_right"])) == (28.0, -4.0)
    np.testing.assert_array_equal(_mask(root, "steep"), line_mask(28.0, -32 / 31, H, W) * 255)
    rows = _first_sea_rows(_mask(root, "mid"))
    line = 10.25 + (4.75 - 10.25) / 31 * np.arange(W)
    assert np.abs(rows - 0.5 - line).max() <= 0.5
    # a line that misses its frame (the mask all sea or all sky) is an error: tests/test_data_safety.py


def test_colour_and_other_formats_become_greyscale_png_and_sixteen_bit_stays(tmp_path: Path) -> None:
    src = tmp_path / "s"
    _image(src / "colour.jpg", colour=True)
    _image(src / "deep.tif", seed=1, bits=16)
    cv2.imwrite(str(src / "old.bmp"), np.full((H, W), 7, np.uint8))
    (src / "l.csv").write_text("file,x1,y1,x2,y2\ncolour.jpg,0,5,31,6\ndeep.tif,0,5,31,6\nold.bmp,0,5,31,6\n")
    done = convert("lines-csv", src / "l.csv", tmp_path / "root")
    assert (done.n_copied, done.n_encoded) == (2, 1)
    images = tmp_path / "root" / "images"
    assert sorted(p.name for p in images.iterdir()) == ["colour.png", "deep.tif", "old.bmp"]  # .bmp is read
    assert (images / "old.bmp").read_bytes() == (src / "old.bmp").read_bytes()
    assert (images / "deep.tif").read_bytes() == (src / "deep.tif").read_bytes()
    grey = cv2.imread(str(images / "colour.png"), cv2.IMREAD_UNCHANGED)
    assert grey.shape == (H, W) and grey.dtype == np.uint8
    assert done.check is not None and done.check.problems == []


# ------------------------------------------------------------------------------------------------------
# SMD: <video>_HorizonGT.mat (structXML 1 x N, fields X, Y, Nx, Ny; MATLAB 1-based pixels) + the video


def _smd(folder: Path, name: str, truths: list[tuple[float, float, float, float] | None]) -> None:
    """The SMD layout: HorizonGT/<name>_HorizonGT.mat beside Videos/<name>.avi (one frame per truth)."""
    struct = np.zeros((1, len(truths)), dtype=[(k, "O") for k in ("X", "Y", "Nx", "Ny")])
    for i, truth in enumerate(truths):
        values = [np.zeros((0, 0))] * 4 if truth is None else [np.array([[v]]) for v in truth]
        struct[0, i] = tuple(values)
    (folder / "HorizonGT").mkdir(parents=True, exist_ok=True)
    (folder / "Videos").mkdir(parents=True, exist_ok=True)
    savemat(str(folder / "HorizonGT" / f"{name}_HorizonGT.mat"), {"structXML": struct})
    writer = cv2.VideoWriter(
        str(folder / "Videos" / f"{name}.avi"), cv2.VideoWriter_fourcc(*"MJPG"), 10, (W, H)
    )
    assert writer.isOpened()
    for i in range(len(truths)):
        frame = np.zeros((H, W, 3), np.uint8)
        frame[:, :, i % 3] = 20 + 25 * i  # colour: written as greyscale
        writer.write(frame)
    writer.release()


def test_smd_mat_frames_every_origin_and_time_order_splits(tmp_path: Path, capsys) -> None:
    src = tmp_path / "VIS_Onboard"
    # a point on the line (1-based, MATLAB) and the line's normal; frame 3 has no ground truth
    truths = [(16.5, 12.5 + i, 0.1 * (i - 2), 1.0) for i in range(8)]
    truths[4] = None
    _smd(src, "MVI_0001_VIS", truths)
    root = tmp_path / "root"
    status, out, err = _run(capsys, "smd-mat", src, root, "--every", 2)
    assert (status, err) == (0, ""), out
    stems = ["MVI_0001_VIS_00000", "MVI_0001_VIS_00002", "MVI_0001_VIS_00006"]  # frame 4: no truth
    assert sorted(p.stem for p in (root / "images").iterdir()) == stems
    assert any("1 frame(s) without horizon ground truth" in line for line in out)
    meta = _meta(root)
    for stem in stems:
        x, y, nx, ny = truths[int(stem[-5:])]  # type: ignore[misc]
        b = -nx / ny
        a = (y - 1) - b * (x - 1)  # 1-based -> 0-based pixel centres
        assert float(meta[stem]["y_left"]) == pytest.approx(a, abs=1e-4)
        assert float(meta[stem]["y_right"]) == pytest.approx(a + b * (W - 1), abs=1e-4)
        np.testing.assert_array_equal(_mask(root, stem), line_mask(a, b, H, W) * 255)
        image = cv2.imread(str(root / "images" / f"{stem}.png"), cv2.IMREAD_UNCHANGED)
        assert image.shape == (H, W) and image.dtype == np.uint8
    splits = {n: (root / "splits" / f"{n}.txt").read_text().split() for n in ("train", "val", "test")}
    assert splits == {"train": stems[:1], "val": stems[1:2], "test": stems[2:]}  # in time order


def test_smd_mat_vertical_line_and_missing_video_are_errors(tmp_path: Path, capsys) -> None:
    src = tmp_path / "smd"
    _smd(src, "v1", [(16.5, 12.5, 0.0, 1.0), (16.5, 12.5, 1.0, 0.0)])
    status, _, err = _run(capsys, "smd-mat", src, tmp_path / "root")
    assert status == 2
    mat = src / "HorizonGT" / "v1_HorizonGT.mat"
    assert err == f"error: {mat}: frame 1: vertical horizon line (Ny = 0, Nx = 1)\n"
    assert not (tmp_path / "root").exists()  # nothing left behind
    (src / "Videos" / "v1.avi").unlink()
    status, _, err = _run(capsys, "smd-mat", src, tmp_path / "root")
    assert status == 2 and "v1_HorizonGT.mat: no video v1.avi" in err


# ------------------------------------------------------------------------------------------------------
# mask formats


def test_sky_masks_by_value_and_palette_index(tmp_path: Path) -> None:
    src = tmp_path / "sky"
    sky = np.zeros((H, W), bool)
    sky[:9] = True
    sky[9:12, :5] = True
    for i, stem in enumerate(("v255", "v01", "pal")):
        _image(src / "images" / f"{stem}.png", seed=i)
    (src / "masks").mkdir()
    cv2.imwrite(str(src / "masks" / "v255.png"), sky.astype(np.uint8) * 255)
    cv2.imwrite(str(src / "masks" / "v01.png"), sky.astype(np.uint8))
    indices = np.where(sky, 1, 2).astype(np.uint8)  # palette: 1 = sky, 2 = water
    indices[20:, :3] = 0  # another class (not sky): sea = not sky
    pal = Image.fromarray(indices, mode="P")
    pal.putpalette([0, 0, 0, 135, 206, 235, 0, 0, 128] + [0] * (256 * 3 - 9))
    pal.save(src / "masks" / "pal.png")
    done = convert("sky-mask", src, tmp_path / "root")
    assert done.check is not None and done.check.problems == []
    for stem in ("v255", "v01", "pal"):
        np.testing.assert_array_equal(_mask(tmp_path / "root", stem), np.where(sky, 0, 255))
    assert not (tmp_path / "root" / "meta.csv").exists()  # no lines, no horizon truth


def test_palette_tolerance_just_inside_and_just_outside(tmp_path: Path, capsys) -> None:
    src = tmp_path / "pal"
    rgb = np.zeros((H, W, 3), np.uint8)
    rgb[:] = (200, 30, 30)  # land
    rgb[12:] = (0, 0, 128)  # water, exactly
    rgb[20:, :8] = (3, 0, 125)  # water + within tolerance 3 in every channel
    rgb[20:, 8:16] = (0, 4, 128)  # 4 off in one channel: not water
    rgb[20:, 16:24] = (0, 128, 0)  # the second water colour
    for i, stem in enumerate("abc"):  # three frames, so that train, val and test each get one
        _image(src / "images" / f"{stem}.png", seed=i)
        (src / "masks").mkdir(exist_ok=True)
        Image.fromarray(rgb).save(src / "masks" / f"{stem}.png")
    root = tmp_path / "root"
    status, out, err = _run(
        capsys, "palette", src, root, "--water-colors", "0,0,128; 0,128,0", "--tolerance", 3, "--seed", 1
    )
    assert (status, err) == (0, ""), out
    expected = np.zeros((H, W), np.uint8)
    expected[12:] = 255
    expected[20:, 8:16] = 0
    for stem in "abc":
        np.testing.assert_array_equal(_mask(root, stem), expected)


def test_palette_mask_must_be_rgb_and_sizes_must_match(tmp_path: Path, capsys) -> None:
    src = tmp_path / "pal"
    _image(src / "images" / "a.png")
    (src / "masks").mkdir()
    Image.fromarray(np.zeros((H, W), np.uint8)).save(src / "masks" / "a.png")  # mode L
    status, _, err = _run(capsys, "palette", src, tmp_path / "r", "--water-colors", "0,0,128")
    assert status == 2
    assert (
        err
        == f"error: {src / 'masks' / 'a.png'}: palette mask must be RGB (colour-coded), got image mode L\n"
    )
    Image.fromarray(np.zeros((H, W + 1, 3), np.uint8)).save(src / "masks" / "a.png")
    status, _, err = _run(capsys, "palette", src, tmp_path / "r", "--water-colors", "0,0,128")
    assert status == 2
    mask, image = src / "masks" / "a.png", src / "images" / "a.png"
    assert err == f"error: {mask}: mask is 33x24 but its image {image} is 32x24 (WxH)\n"


# ------------------------------------------------------------------------------------------------------
# ROOT, stems, errors, options


def test_non_empty_root_is_refused_and_overwrite_replaces_only_the_outputs(tmp_path: Path, capsys) -> None:
    src = tmp_path / "s"
    for i, stem in enumerate(("a", "b", "c")):
        _image(src / f"{stem}.png", seed=i)
    (src / "l.csv").write_text("file,x1,y1,x2,y2\na.png,0,5,31,6\nb.png,0,5,31,6\nc.png,0,5,31,6\n")
    root = tmp_path / "root"
    root.mkdir()
    (root / "README.txt").write_text("mine")
    status, _, err = _run(capsys, "lines-csv", src / "l.csv", root)
    assert status == 2 and err.startswith(f"error: {root}: is not empty; pass --overwrite")
    assert sorted(p.name for p in root.iterdir()) == ["README.txt"]  # untouched
    _image(root / "images" / "mine.png")  # a user's own images/: never replaced, even with --overwrite
    mine = (root / "images" / "mine.png").read_bytes()
    status, _, err = _run(capsys, "lines-csv", src / "l.csv", root, "--overwrite")
    assert status == 2 and "holds images/, which seaSky did not write" in err
    assert (root / "images" / "mine.png").read_bytes() == mine
    (root / "images" / "mine.png").unlink()
    (root / "images").rmdir()
    status, _, _ = _run(capsys, "lines-csv", src / "l.csv", root, "--overwrite")
    assert status == 0  # README.txt alone: converted beside it
    _image(root / "images" / "stale.png")  # in a folder an earlier conversion wrote
    status, _, _ = _run(capsys, "lines-csv", src / "l.csv", root, "--overwrite")
    assert status == 0
    assert sorted(p.name for p in root.iterdir() if p.name != MANIFEST) == [
        "README.txt",
        "images",
        "masks",
        "meta.csv",
        "splits",
    ]
    assert sorted(p.stem for p in (root / "images").iterdir()) == ["a", "b", "c"]  # stale.png gone
    assert not list(root.glob(".convert-*"))


def _error_case(tmp_path: Path, case: str) -> tuple[list[str], str]:
    """A source with one problem: the CLI arguments and the text its error line must hold."""
    src = tmp_path / "src"
    _image(src / "images" / "a.png")
    _image(src / "images" / "b.png", seed=1)
    if case == "missing image":
        (src / "l.csv").write_text("file,x1,y1,x2,y2\nimages/a.png,0,1,31,2\nimages/gone.png,0,1,31,2\n")
        return [
            "lines-csv",
            str(src / "l.csv"),
        ], f"{src / 'l.csv'}:3: image {src / 'images/gone.png'} does not exist"
    if case == "one point":
        (src / "l.json").write_text(
            json.dumps({"x_coordinate": [3], "y_coordinate": [4], "raw_file": "images/a.png"})
        )
        return [
            "lines-json",
            str(src / "l.json"),
        ], f"{src / 'l.json'}:1: a horizon line needs at least 2 points, got 1"
    if case == "vertical":
        (src / "l.csv").write_text("file,x1,y1,x2,y2\nimages/a.png,4,1,4,9\n")
        return [
            "lines-csv",
            str(src / "l.csv"),
        ], f"{src / 'l.csv'}:2: vertical horizon line (all points at x = 4)"
    if case == "bad json":
        (src / "l.json").write_text('{"x_coordinate": [0, 1], \n')
        return ["lines-json", str(src / "l.json")], f"{src / 'l.json'}:1: not valid JSON"
    if case == "csv header":
        (src / "l.csv").write_text("image,x1,y1,x2,y2\nimages/a.png,0,1,31,2\n")
        return [
            "lines-csv",
            str(src / "l.csv"),
        ], f"{src / 'l.csv'}: header must hold file,x1,y1,x2,y2; missing file"
    if case == "same stem":
        _image(src / "other" / "a.png", seed=2)
        (src / "l.csv").write_text("file,x1,y1,x2,y2\nimages/a.png,0,1,31,2\nother/a.png,0,1,31,2\n")
        return ["lines-csv", str(src / "l.csv")], (
            f"{src / 'other/a.png'}: stem 'a' is also that of {src / 'images/a.png'}; stems must be unique"
        )
    if case == "listed twice":
        entry = json.dumps({"x_coordinate": [0, 31], "y_coordinate": [4, 5], "raw_file": "images/a.png"})
        (src / "l.json").write_text(entry + "\n" + entry + "\n")
        listed = f"{src / 'images/a.png'}: listed twice in {src / 'l.json'}"
        return ["lines-json", str(src / "l.json")], listed
    if case == "negative points":  # TuSimple's -2 marks no point: a line of them is no line
        (src / "l.json").write_text(
            json.dumps({"x_coordinate": [0, 31], "y_coordinate": [-50, -40], "raw_file": "images/a.png"})
        )
        return ["lines-json", str(src / "l.json")], (
            f"{src / 'l.json'}:1: 2 of 2 points have a negative coordinate, which marks no point"
        )
    if case == "no water colour":
        (src / "masks").mkdir()
        for stem in "ab":
            Image.fromarray(np.full((H, W, 3), (0, 0, 128), np.uint8)).save(src / "masks" / f"{stem}.png")
        return ["palette", str(src), "--water-colors", "0,128,0"], (
            f"{src}: no pixel of any mask is within 0 of the water colours 0,128,0; check --water-colors"
        )
    if case == "empty mat":
        (src / "HorizonGT").mkdir()
        (src / "HorizonGT" / "v_HorizonGT.mat").write_bytes(b"")
        return ["smd-mat", str(src / "HorizonGT" / "v_HorizonGT.mat")], (
            f"{src / 'HorizonGT' / 'v_HorizonGT.mat'}: cannot be read as a MATLAB file"
        )
    if case == "mask size":
        (src / "masks").mkdir()
        cv2.imwrite(str(src / "masks" / "a.png"), np.zeros((H, W), np.uint8))
        cv2.imwrite(str(src / "masks" / "b.png"), np.zeros((H - 1, W), np.uint8))
        return [
            "sky-mask",
            str(src),
        ], f"{src / 'masks/b.png'}: mask is 32x23 but its image {src / 'images/b.png'}"
    if case == "mask values":
        (src / "masks").mkdir()
        cv2.imwrite(str(src / "masks" / "a.png"), np.full((H, W), 128, np.uint8))
        return ["sky-mask", str(src)], f"{src / 'masks/a.png'}: sky mask values must be {{0,255}} or {{0,1}}"
    if case == "no mask":
        (src / "masks").mkdir()
        cv2.imwrite(str(src / "masks" / "a.png"), np.zeros((H, W), np.uint8))
        return ["sky-mask", str(src)], f"{src / 'images/b.png'}: no mask with stem 'b' in {src / 'masks'}"
    if case == "bad colours":
        return [
            "palette",
            str(src),
            "--water-colors",
            "0,0",
        ], "--water-colors: '0,0' is not R,G,B with values 0-255"
    if case == "option of another format":
        (src / "l.csv").write_text("file,x1,y1,x2,y2\nimages/a.png,0,1,31,2\n")
        return ["lines-csv", str(src / "l.csv"), "--every", "2"], "--every is for smd-mat, not lines-csv"
    raise AssertionError(case)


ERROR_CASES = [
    "missing image",
    "one point",
    "vertical",
    "bad json",
    "csv header",
    "same stem",
    "listed twice",
    "negative points",
    "no water colour",
    "empty mat",
    "mask size",
    "mask values",
    "no mask",
    "bad colours",
    "option of another format",
]


@pytest.mark.parametrize("case", ERROR_CASES)
def test_bad_input_is_one_line_naming_the_file_and_exit_2(tmp_path: Path, capsys, case: str) -> None:
    args, expected = _error_case(tmp_path, case)
    root = tmp_path / "root"
    status, out, err = _run(capsys, *args[:2], root, *args[2:])
    assert status == 2 and out == []
    assert err.startswith("error: ") and err.endswith("\n") and err.count("\n") == 1, err
    assert expected in err, err
    assert not root.exists()  # nothing written


def test_split_counts_and_fractions(tmp_path: Path) -> None:
    assert split_counts(100, (0.8, 0.1, 0.1)) == (80, 10, 10)
    assert split_counts(5, (0.8, 0.1, 0.1)) == (3, 1, 1)  # small sets keep a val and a test frame
    assert split_counts(2, (0.8, 0.1, 0.1)) == (2, 0, 0)
    assert split_counts(10, (1, 0, 0)) == (10, 0, 0)
    src = tmp_path / "s"
    rows = []
    for i in range(20):
        _image(src / f"f{i:02d}.png", seed=i)
        rows.append(f"f{i:02d}.png,0,5,31,6")
    (src / "l.csv").write_text("file,x1,y1,x2,y2\n" + "\n".join(rows) + "\n")
    first = convert("lines-csv", src / "l.csv", tmp_path / "r1", fractions=(0.5, 0.25, 0.25), seed=3)
    convert("lines-csv", src / "l.csv", tmp_path / "r2", fractions=(0.5, 0.25, 0.25), seed=3)
    other = convert("lines-csv", src / "l.csv", tmp_path / "r3", fractions=(0.5, 0.25, 0.25), seed=4)
    assert first.splits == {"train": 10, "val": 5, "test": 5}
    read = lambda r: [(r / "splits" / f"{n}.txt").read_text() for n in ("train", "val", "test")]  # noqa: E731
    assert read(tmp_path / "r1") == read(tmp_path / "r2") != read(tmp_path / "r3")
    assert other.check is not None and other.check.problems == []


def test_cli_runs_as_a_module(tmp_path: Path) -> None:
    src = tmp_path / "s"
    for i in range(3):
        _image(src / f"f{i}.png", seed=i)
    (src / "l.csv").write_text("file,x1,y1,x2,y2\n" + "".join(f"f{i}.png,0,5,31,7\n" for i in range(3)))
    done = run_cli("data.convert", "lines-csv", str(src / "l.csv"), str(tmp_path / "root"), timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == f"{tmp_path / 'root'}: 3 images, 0 problem(s)"
    assert Options().origin == 0.0


def test_smd_mat_layout_errors_and_frame_count_notes(tmp_path: Path, capsys) -> None:
    src = tmp_path / "smd"
    (src / "HorizonGT").mkdir(parents=True)
    savemat(str(src / "HorizonGT" / "v0_HorizonGT.mat"), {"gt": np.zeros(3)})
    status, _, err = _run(capsys, "smd-mat", src / "HorizonGT" / "v0_HorizonGT.mat", tmp_path / "r")
    assert status == 2
    assert (
        err == f"error: {src / 'HorizonGT' / 'v0_HorizonGT.mat'}: no variable structXML (the SMD horizon "
        "layout); variables: gt\n"
    )
    # 9 truths for a 6-frame video: 6 frames converted, a note says so; SRC may be the .mat itself
    _smd(tmp_path / "v", "clip", [(16.5, 10.5 + i, 0.0, 1.0) for i in range(6)])
    savemat(str(tmp_path / "v" / "HorizonGT" / "clip_HorizonGT.mat"), {"structXML": _struct(9)})
    done = convert("smd-mat", tmp_path / "v" / "HorizonGT" / "clip_HorizonGT.mat", tmp_path / "r2")
    assert done.n_frames == 6
    assert done.notes == [
        f"{tmp_path / 'v' / 'Videos' / 'clip.avi'}: 6 frames, but clip_HorizonGT.mat has 9; "
        "the rest is ignored"
    ]


def _struct(n: int) -> np.ndarray:
    struct = np.zeros((1, n), dtype=[(k, "O") for k in ("X", "Y", "Nx", "Ny")])
    for i in range(n):
        struct[0, i] = tuple(np.array([[v]]) for v in (16.5, 10.5 + i, 0.0, 1.0))
    return struct


def test_sky_mask_with_image_and_mask_folders_given(tmp_path: Path) -> None:
    for i in range(3):
        _image(tmp_path / "frames" / f"f{i}.tif", seed=i, bits=16)
        (tmp_path / "labels").mkdir(exist_ok=True)
        cv2.imwrite(
            str(tmp_path / "labels" / f"f{i}.png"),
            np.where(np.arange(H)[:, None] < 8 + i, 255, 0).repeat(W, axis=1).astype(np.uint8),
        )
    opts = Options(images=tmp_path / "frames", masks=tmp_path / "labels")
    done = convert("sky-mask", tmp_path, tmp_path / "out", opts)
    assert done.check is not None and done.check.problems == [] and done.n_copied == 3
    assert (_first_sea_rows(_mask(tmp_path / "out", "f2")) == 10).all()


def test_lines_csv_polyline_and_no_sea_rows(tmp_path: Path) -> None:
    """The optional columns of seaSky.label: a polyline in ``points`` (sea below it, ends extended; two
    points are a straight line with a meta.csv row) and ``no_sea`` = 1 (an all-zero mask, no line)."""
    from seaSky.data.convert_formats import polyline_mask

    src = tmp_path / "s"
    for i, stem in enumerate(("coast", "two", "sky", "plain")):
        _image(src / "images" / f"{stem}.png", seed=i)
    (src / "l.csv").write_text(
        "file,x1,y1,x2,y2,points,no_sea\n"
        "images/coast.png,4,8,28,10,28 10;4 8;16 15,\n"  # any order: sorted by x
        "images/two.png,0,5,31,6,0 5;31 6,0\n"
        "images/sky.png,,,,,,1\n"
        "images/plain.png,0,5,31,6,,\n"
    )
    done = convert("lines-csv", src / "l.csv", tmp_path / "root", split="all")
    assert done.check is not None and done.check.problems == [] and (done.n_frames, done.n_lines) == (4, 2)
    root = tmp_path / "root"
    coast = polyline_mask([4, 16, 28], [8, 15, 10], H, W)
    np.testing.assert_array_equal(_mask(root, "coast"), coast * 255)
    assert coast[6, 0] == 1 and coast[5, 0] == 0  # the first segment extended: y 5.67 at x 0
    assert coast[16, 16] == 1 and coast[15, 16] == 0
    np.testing.assert_array_equal(_mask(root, "two"), _mask(root, "plain"))  # two points: the straight line
    assert not _mask(root, "sky").any()
    assert set(_meta(root)) == {"two", "plain"}  # no straight line to evaluate a horizon on: no row


@pytest.mark.parametrize(
    "row, message",
    [
        ("images/a.png,,,,,,1\nimages/b.png,0,5,31,6,,yes please", "no_sea must be 1 or 0"),
        ("images/a.png,0,5,31,6,,1", "a no_sea row must leave x1,y1,x2,y2 empty"),
        ("images/a.png,0,5,31,6,0 5;10 x;31 6,", "points must be 'x y' pairs separated by ';', got '10 x'"),
        ("images/a.png,0,5,31,6,0 5;10 7;10 9;31 6,", "two polyline points at one x"),
        ("images/a.png,0,5,31,6,0 5,", "a horizon line needs at least 2 points, got 1"),
        ("images/a.png,0,28,31,28,0 28;10 26;31 28,", "the polyline misses the 32x24 (WxH) frame"),
        ("images/a.png,0,5,31,6,0 5;15 90;31 6,", "labelled at another size?"),
    ],
)
def test_lines_csv_bad_polyline_or_no_sea_rows_name_the_line(tmp_path: Path, row: str, message: str) -> None:
    src = tmp_path / "s"
    _image(src / "images" / "a.png")
    _image(src / "images" / "b.png", seed=1)
    (src / "l.csv").write_text(f"file,x1,y1,x2,y2,points,no_sea\n{row}\n")
    with pytest.raises(DataError, match=re.escape(message)) as err:
        convert("lines-csv", src / "l.csv", tmp_path / "root")
    assert str(err.value).startswith(f"{src / 'l.csv'}:")
    assert not (tmp_path / "root").exists()
