"""Readers of public sea/sky annotations for ``python -m seaSky.data.convert`` (:mod:`seaSky.data.convert`).

Each reader yields one :class:`Item` per frame: the decoded image, the sea mask (1 = sea) and, for the
line formats, the horizon line ``y = a + b * x``. Coordinates follow :mod:`seaSky.horizon`: pixel centres
at integers, x to the right, y down, and pixel (x, y) is sea iff ``y > a + b * x`` (the half-plane below
the line), as the renderer draws its masks. A source whose first pixel centre is at 1 (MATLAB, as in the
Singapore Maritime Dataset) is shifted by ``Options.origin``.

Formats:

* ``lines-json``: JSON lines (InfML-HDD / TuSimple style), one object per line with ``x_coordinate`` and
  ``y_coordinate`` (points on the horizon; negative values = no point, as TuSimple's -2) and ``raw_file``
  (the image, relative to the JSON file's folder); the line is the least-squares fit y(x).
* ``lines-csv``: a CSV with header ``file,x1,y1,x2,y2`` (image relative to the CSV's folder); optional
  columns ``points`` (a polyline ``"x y;x y;..."``, for a coast that is not straight) and ``no_sea`` (1: no
  sea in view, an all-zero mask), as ``seaSky.label`` writes them (:func:`lines_csv_item`).
* ``smd-mat``: the Singapore Maritime Dataset's ``<video>_HorizonGT.mat`` (variable ``structXML``, a 1 x N
  struct array, one element per frame, with fields ``X``, ``Y`` (a point on the horizon) and ``Nx``, ``Ny``
  (the line's normal): ``Nx (x - X) + Ny (y - Y) = 0``), read with its video.
* ``sky-mask``: sky masks (255 or 1 = sky, or palette index 1) of sea-and-sky frames; sea = not sky.
* ``palette``: colour-coded masks; the water colours (within a per-channel tolerance) are sea.

Every problem is a :class:`~seaSky.errors.DataError` naming the file (and line or frame). In the line
formats, a line must cross its frame (:func:`check_line_in_frame`): annotated points far outside the frame
(labels made at another image size) or a line that misses the frame (a mask all sea or all sky) are errors;
a line that leaves the frame through an edge is clipped to it, as it should be.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

import cv2
import numpy as np

from seaSky.data.folder import IMAGE_SUFFIXES
from seaSky.errors import ConfigError, DataError

VIDEO_SUFFIXES = (".avi", ".mp4", ".mov", ".mkv")
SMD_FIELDS = ("X", "Y", "Nx", "Ny")
# how far (a share of the frame's width or height) an annotated point may lie outside its frame
POINT_MARGIN = 0.25


@dataclass
class Options:
    """Format options (each used by some formats only) and the notes readers leave for the summary."""

    origin: float = 0.0  # coordinate of the first pixel centre in the source (1 for MATLAB)
    every: int = 1  # smd-mat: keep every Nth video frame
    images: Path | None = None  # sky-mask, palette: the image folder (default SRC/images)
    masks: Path | None = None  # ... and the mask folder (default SRC/masks)
    sky_value: int | None = None  # sky-mask: the mask value of sky (default 255, 1, or palette index 1)
    water_colors: Sequence[tuple[int, int, int]] = ()  # palette: RGB colours of water
    tolerance: int = 0  # palette: max per-channel difference to a water colour
    notes: list[str] = field(default_factory=list)


@dataclass
class Item:
    """One converted frame: ``image`` as decoded (copied from ``copy_from`` when seaSky reads it as is),
    ``mask`` uint8 (H, W) with 1 = sea, and the horizon ``line`` (a, b) of y = a + b x, or None."""

    stem: str
    source: str
    image: np.ndarray
    mask: np.ndarray
    copy_from: Path | None = None
    line: tuple[float, float] | None = None
    group: str | None = None  # frames of one video: split in time order


def line_mask(a: float, b: float, height: int, width: int) -> np.ndarray:
    """Sea mask of the half-plane below y = a + b x: pixel (x, y) is sea iff y > a + b x (uint8, 1 = sea)."""
    line = a + b * np.arange(width, dtype=np.float64)
    return (np.arange(height, dtype=np.float64)[:, None] > line[None, :]).astype(np.uint8)


def fit_line(xs: Sequence[float], ys: Sequence[float], where: str) -> tuple[float, float]:
    """Least-squares line y = a + b x through the points; DataError for < 2 points or a vertical line."""
    x = np.asarray(xs, dtype=np.float64)
    y = np.asarray(ys, dtype=np.float64)
    if len(x) < 2:
        raise DataError(f"{where}: a horizon line needs at least 2 points, got {len(x)}")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise DataError(f"{where}: point coordinates must be finite numbers")
    if np.ptp(x) == 0:
        raise DataError(f"{where}: vertical horizon line (all points at x = {x[0]:g}); y(x) is undefined")
    b, a = np.polyfit(x, y, 1)
    return float(a), float(b)


def read_image_file(path: Path, where: str = "") -> np.ndarray:
    """Decode an image file as stored (any bit depth); DataError naming it when missing or unreadable."""
    ref = f"{where}: " if where else ""
    if not path.is_file():
        raise DataError(f"{ref}image {path} does not exist")
    data = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if data is None:
        raise DataError(f"{ref}{path}: cannot be read as an image (corrupt or unsupported format)")
    return data


def check_line_in_frame(
    where: str,
    xs: Sequence[float],
    ys: Sequence[float],
    line: tuple[float, float],
    height: int,
    width: int,
    origin: float = 0.0,
) -> None:
    """DataError naming ``where`` when a horizon label does not fit its ``width`` x ``height`` frame: its
    points ``xs``, ``ys`` (the source's coordinates, first pixel centre at ``origin``) lie more than
    POINT_MARGIN of the frame's size outside it (labelled at another image size?), or its ``line``
    (a, b) of y = a + b x, in seaSky's coordinates, misses the frame (the mask would be all sea or sky)."""
    x = np.asarray(xs, dtype=np.float64) - origin
    y = np.asarray(ys, dtype=np.float64) - origin
    x_margin, y_margin = POINT_MARGIN * width, POINT_MARGIN * height
    if (
        x.min() < -0.5 - x_margin
        or x.max() > width - 0.5 + x_margin
        or y.min() < -0.5 - y_margin
        or y.max() > height - 0.5 + y_margin
    ):
        raise DataError(
            f"{where}: points span x {min(xs):g}..{max(xs):g}, y {min(ys):g}..{max(ys):g} but the frame is "
            f"{width}x{height} (WxH): labelled at another size?"
        )
    mask = line_mask(*line, height, width)
    if mask.min() == mask.max():
        a, b = line
        y_left, y_right = a + origin, a + b * (width - 1) + origin  # in the source's coordinates
        side = "sea (the line is above it)" if mask.all() else "sky (the line is below it)"
        raise DataError(
            f"{where}: the line (y = {y_left:.4g} at x = {origin:g}, {y_right:.4g} at x = "
            f"{width - 1 + origin:g}) misses the {width}x{height} (WxH) frame: its mask would be all "
            f"{side}; a horizon label must cross its frame"
        )


def _line_item(
    stem: str, image_path: Path, points: tuple[list[float], list[float]], opts: Options, where: str
) -> Item:
    """The item of one line label: its image, the least-squares line of its points (the source's
    coordinates), checked to cross the frame, and its mask."""
    xs, ys = points
    line = fit_line(_shifted(xs, opts.origin), _shifted(ys, opts.origin), where)
    image = read_image_file(image_path, where)
    height, width = image.shape[:2]
    check_line_in_frame(f"{where}: {image_path}", xs, ys, line, height, width, opts.origin)
    return Item(stem, str(image_path), image, line_mask(*line, height, width), image_path, line)


def _shifted(values: Sequence[float], origin: float) -> list[float]:
    return [float(v) - origin for v in values]


# ------------------------------------------------------------------------------------------------------
# line formats


def read_lines_json(src: Path, opts: Options) -> Iterator[Item]:
    """``lines-json``: SRC is a JSON-lines file or a folder of ``*.json`` files."""
    files = sorted(src.glob("*.json")) if src.is_dir() else [src]
    if not files:
        raise DataError(f"{src}: no *.json files in this folder")
    for path in files:
        for number, text in enumerate(path.read_text().splitlines(), start=1):
            if not text.strip():
                continue
            where = f"{path}:{number}"
            try:
                entry = json.loads(text)
            except json.JSONDecodeError as err:
                raise DataError(f"{where}: not valid JSON ({err.msg})") from None
            if not isinstance(entry, dict):
                raise DataError(f"{where}: expected a JSON object per line, got {type(entry).__name__}")
            missing = [k for k in ("x_coordinate", "y_coordinate", "raw_file") if k not in entry]
            if missing:
                raise DataError(f"{where}: missing key(s) {', '.join(missing)}")
            xs, ys = entry["x_coordinate"], entry["y_coordinate"]
            if not (isinstance(xs, list) and isinstance(ys, list)) or len(xs) != len(ys):
                raise DataError(f"{where}: x_coordinate and y_coordinate must be lists of the same length")
            try:
                points = [(float(x), float(y)) for x, y in zip(xs, ys, strict=True)]
            except (TypeError, ValueError):
                raise DataError(f"{where}: x_coordinate and y_coordinate must hold numbers") from None
            given = len(points)
            points = [(x, y) for x, y in points if x >= 0 and y >= 0]  # negative = no point (TuSimple -2)
            if given >= 2 > len(points):
                raise DataError(
                    f"{where}: {given - len(points)} of {given} points have a negative coordinate, which "
                    "marks no point (as TuSimple's -2); a horizon line needs at least 2 points"
                )
            image_path = path.parent / str(entry["raw_file"])
            xy = ([p[0] for p in points], [p[1] for p in points])
            yield _line_item(image_path.stem, image_path, xy, opts, where)


# columns of lines-csv: the required ones, then the optional ones the labeller (seaSky.label) writes
LINES_CSV_COLUMNS = ("file", "x1", "y1", "x2", "y2", "points", "no_sea")
NO_SEA_VALUES = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False, "": False}


def read_lines_csv(src: Path, opts: Options) -> Iterator[Item]:
    """``lines-csv``: SRC is a CSV with header ``file,x1,y1,x2,y2`` (two points on each frame's line) and,
    optionally, ``points`` and ``no_sea`` (see :func:`lines_csv_item`)."""
    if src.is_dir():
        raise DataError(f"{src}: lines-csv reads a CSV file, not a folder")
    with open(src, newline="", encoding="utf-8-sig") as fh:  # -sig: a spreadsheet's byte-order mark
        reader = csv.DictReader(fh)
        missing = [k for k in LINES_CSV_COLUMNS[:5] if k not in (reader.fieldnames or [])]
        if missing:
            raise DataError(f"{src}: header must hold file,x1,y1,x2,y2; missing {','.join(missing)}")
        for row in reader:
            yield lines_csv_item(row, src.parent, opts, f"{src}:{reader.line_num}")


def lines_csv_item(row: dict, folder: Path, opts: Options, where: str) -> Item:
    """The item of one ``lines-csv`` row (``file`` relative to ``folder``; ``where``: file and line, for
    messages). Three kinds of row:

    * a straight line: ``x1,y1,x2,y2`` two points on it; ``points`` and ``no_sea`` empty or absent.
    * a polyline (a coast that is not straight): ``points`` = ``"x y;x y;..."`` (at least 2 points, at
      different x; their order does not matter). Pixel (x, y) is sea iff y is below the polyline's y at
      column x, the ends extended along the first and last segments; ``x1,y1,x2,y2`` should hold its first
      and last point (what a reader of the 5 plain columns falls back to) and are not read. Two points
      are the straight line through them (with a horizon in meta.csv); more are a mask without a line.
    * no sea in view: ``no_sea`` = 1 (or true/yes) and the coordinates empty: an all-zero mask, no line.
    """
    file = str(row.get("file") or "").strip()
    points_text = str(row.get("points") or "").strip()
    no_sea = NO_SEA_VALUES.get(str(row.get("no_sea") or "").strip().lower())
    if no_sea is None:
        raise DataError(f"{where}: no_sea must be 1 or 0 (true/false, or empty), got {row.get('no_sea')!r}")
    if no_sea:
        given = [k for k in ("x1", "y1", "x2", "y2", "points") if str(row.get(k) or "").strip()]
        if given:
            raise DataError(
                f"{where}: a no_sea row must leave {','.join(given)} empty (no sea: no line to draw)"
            )
        if not file:
            raise DataError(f"{where}: the file column is empty")
        image_path = folder / file
        image = read_image_file(image_path, where)
        mask = np.zeros(image.shape[:2], dtype=np.uint8)
        return Item(image_path.stem, str(image_path), image, mask, image_path, None)
    if points_text:
        xs, ys = _parse_points(points_text, where)
    else:
        try:
            x1, y1, x2, y2 = (float(row[k]) for k in ("x1", "y1", "x2", "y2"))
        except (TypeError, ValueError):
            raise DataError(f"{where}: x1,y1,x2,y2 must be numbers") from None
        if (x1, y1) == (x2, y2):
            raise DataError(f"{where}: a horizon line needs 2 different points, got the same one twice")
        xs, ys = [x1, x2], [y1, y2]
    fit_line(xs, ys, where)  # fewer than 2 points or a vertical line: an error before the image is read
    if not file:
        raise DataError(f"{where}: the file column is empty")
    image_path = folder / file
    if len(xs) == 2:
        return _line_item(image_path.stem, image_path, (xs, ys), opts, where)
    return _polyline_item(image_path, xs, ys, opts, where)


def _parse_points(text: str, where: str) -> tuple[list[float], list[float]]:
    """``"x y;x y;..."`` -> (xs, ys) sorted by x; DataError for a malformed point or two at one x."""
    pairs = []
    for part in filter(str.strip, text.split(";")):
        values = part.replace(",", " ").split()
        try:
            x, y = float(values[0]), float(values[1])
            ok = len(values) == 2 and math.isfinite(x) and math.isfinite(y)
        except (IndexError, ValueError):
            ok = False
        if not ok:
            raise DataError(f"{where}: points must be 'x y' pairs separated by ';', got {part.strip()!r}")
        pairs.append((x, y))
    pairs.sort()
    if len(pairs) > 2 and any(a[0] == b[0] for a, b in pairwise(pairs)):
        raise DataError(f"{where}: two polyline points at one x; the line must give one y per column")
    return [p[0] for p in pairs], [p[1] for p in pairs]


def polyline_rows(xs: Sequence[float], ys: Sequence[float], width: int) -> np.ndarray:
    """y of the polyline through the points (sorted by x, distinct x) at each column 0..width-1; beyond its
    ends, the first and last segments extended."""
    x, y = np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)
    cols = np.arange(width, dtype=np.float64)
    rows = np.interp(cols, x, y)
    left, right = cols < x[0], cols > x[-1]
    rows[left] = y[0] + (cols[left] - x[0]) * (y[1] - y[0]) / (x[1] - x[0])
    rows[right] = y[-1] + (cols[right] - x[-1]) * (y[-1] - y[-2]) / (x[-1] - x[-2])
    return rows


def polyline_mask(xs: Sequence[float], ys: Sequence[float], height: int, width: int) -> np.ndarray:
    """Sea mask below the polyline (uint8, 1 = sea): pixel (x, y) is sea iff y > the polyline's y at x."""
    rows = polyline_rows(xs, ys, width)
    return (np.arange(height, dtype=np.float64)[:, None] > rows[None, :]).astype(np.uint8)


def _polyline_item(image_path: Path, xs: list[float], ys: list[float], opts: Options, where: str) -> Item:
    """The item of a polyline label: its image and the mask below it (no straight line: no meta.csv row).
    Its points must lie in the frame (within POINT_MARGIN) and the polyline must cross it."""
    image = read_image_file(image_path, where)
    height, width = image.shape[:2]
    mask = polyline_mask(_shifted(xs, opts.origin), _shifted(ys, opts.origin), height, width)
    # the points' check alone: a line through the middle rows crosses any frame
    check_line_in_frame(f"{where}: {image_path}", xs, ys, ((height - 1) / 2, 0.0), height, width, opts.origin)
    if mask.min() == mask.max():
        side = "sea (the line is above it)" if mask.all() else "sky (the line is below it)"
        raise DataError(
            f"{where}: {image_path}: the polyline misses the {width}x{height} (WxH) frame: its mask would be "
            f"all {side}; a horizon label must cross its frame"
        )
    return Item(image_path.stem, str(image_path), image, mask, image_path, None)


def smd_lines(mat: Path) -> list[tuple[float, float, float, float] | None]:
    """(X, Y, Nx, Ny) per frame of an SMD ``*HorizonGT.mat`` (None: the frame has no ground truth)."""
    from scipy.io import loadmat
    from scipy.io.matlab import MatReadError

    try:
        data = loadmat(str(mat))
    except (ValueError, NotImplementedError, OSError, MatReadError) as err:  # corrupt, empty, or v7.3 (HDF5)
        raise DataError(f"{mat}: cannot be read as a MATLAB file ({err})") from None
    if "structXML" not in data:
        found = ", ".join(k for k in data if not k.startswith("__")) or "none"
        raise DataError(f"{mat}: no variable structXML (the SMD horizon layout); variables: {found}")
    struct = data["structXML"]
    names = struct.dtype.names or ()
    if not set(SMD_FIELDS) <= set(names):
        raise DataError(f"{mat}: structXML needs fields X, Y, Nx, Ny; it has {', '.join(names) or 'none'}")
    lines: list[tuple[float, float, float, float] | None] = []
    for i, record in enumerate(struct.ravel()):
        try:
            values = [np.asarray(record[k], dtype=np.float64).ravel() for k in SMD_FIELDS]
        except (TypeError, ValueError):
            raise DataError(f"{mat}: frame {i}: X, Y, Nx, Ny must be numbers") from None
        if any(v.size == 0 for v in values) or not all(np.isfinite(v[0]) for v in values):
            lines.append(None)
            continue
        lines.append(tuple(float(v[0]) for v in values))  # type: ignore[arg-type]
    return lines


def _smd_video(mat: Path, name: str, src: Path) -> Path:
    folders = [mat.parent, mat.parent.parent / "Videos", src / "Videos", src]
    for folder in dict.fromkeys(folders):
        for suffix in VIDEO_SUFFIXES:
            if (folder / f"{name}{suffix}").is_file():
                return folder / f"{name}{suffix}"
    raise DataError(f"{mat}: no video {name}.avi (or .mp4, .mov, .mkv) beside it or in a Videos/ folder")


def read_smd_mat(src: Path, opts: Options) -> Iterator[Item]:
    """``smd-mat``: SRC is a ``*HorizonGT.mat`` or a folder searched for them; each video's frames are
    extracted (every ``opts.every``-th) as ``<video>_<frame:05d>`` (frame numbers from 0)."""
    mats = [src] if src.is_file() else sorted(src.rglob("*HorizonGT.mat"))
    if not mats:
        raise DataError(f"{src}: no *HorizonGT.mat files in this folder or below")
    for mat in mats:
        name = (
            mat.name[: -len("HorizonGT.mat")].rstrip("_") if mat.name.endswith("HorizonGT.mat") else mat.stem
        )
        lines = smd_lines(mat)
        video = _smd_video(mat, name, src)
        capture = cv2.VideoCapture(str(video))
        if not capture.isOpened():
            raise DataError(f"{video}: cannot be opened as a video")
        index, no_truth = 0, 0
        try:
            while index < len(lines) and capture.grab():
                truth = lines[index]
                if index % opts.every == 0 and truth is None:
                    no_truth += 1
                elif index % opts.every == 0:
                    yield _smd_item(mat, video, name, index, truth, capture, opts)
                index += 1
            extra = 0
            while index >= len(lines) and capture.grab():
                extra += 1
        finally:
            capture.release()
        if index < len(lines):
            opts.notes.append(
                f"{video}: {index} frames, but {mat.name} has {len(lines)}; the rest is ignored"
            )
        if extra:
            opts.notes.append(f"{video}: {extra} frame(s) after the {len(lines)} of {mat.name} are ignored")
        if no_truth:
            opts.notes.append(f"{mat}: {no_truth} frame(s) without horizon ground truth are left out")


def _smd_item(
    mat: Path,
    video: Path,
    name: str,
    index: int,
    truth: tuple[float, float, float, float],
    capture: cv2.VideoCapture,
    opts: Options,
) -> Item:
    ok, frame = capture.retrieve()
    if not ok or frame is None:
        raise DataError(f"{video}: frame {index} cannot be decoded")
    x_point, y_point, nx, ny = truth
    if ny == 0:
        raise DataError(f"{mat}: frame {index}: vertical horizon line (Ny = 0, Nx = {nx:g})")
    x0, y0 = x_point - opts.origin, y_point - opts.origin
    b = -nx / ny  # Nx (x - X) + Ny (y - Y) = 0
    line = (y0 - b * x0, b)
    height, width = frame.shape[:2]
    where = f"{mat}: frame {index} of {video}"
    check_line_in_frame(where, [x_point], [y_point], line, height, width, opts.origin)
    return Item(
        f"{name}_{index:05d}",
        f"{video} frame {index}",
        frame,
        line_mask(*line, height, width),
        None,
        line,
        group=name,
    )


# ------------------------------------------------------------------------------------------------------
# mask formats


def _by_stem(folder: Path, what: str) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            continue
        if path.stem in found:
            raise DataError(f"{path}: {what} stem {path.stem!r} is used twice (also {found[path.stem]})")
        found[path.stem] = path
    return found


def _pairs(src: Path, opts: Options) -> Iterator[tuple[str, Path, Path]]:
    """(stem, image, mask) of SRC/images + SRC/masks (or --images / --masks), matched by stem."""
    images, masks = opts.images or src / "images", opts.masks or src / "masks"
    for folder, what in ((images, "image"), (masks, "mask")):
        if not folder.is_dir():
            raise DataError(
                f"{folder}: {what} folder does not exist (expected SRC/images and SRC/masks, "
                f"or --images DIR --masks DIR)"
            )
    image_files, mask_files = _by_stem(images, "image"), _by_stem(masks, "mask")
    orphans = sorted(set(mask_files) - set(image_files))
    if orphans:
        raise DataError(f"{mask_files[orphans[0]]}: no image with stem {orphans[0]!r} in {images}")
    for stem, image in image_files.items():
        if stem not in mask_files:
            raise DataError(f"{image}: no mask with stem {stem!r} in {masks}")
        yield stem, image, mask_files[stem]


def _mask_item(stem: str, image_path: Path, mask_path: Path, sea: np.ndarray) -> Item:
    image = read_image_file(image_path)
    if image.shape[:2] != sea.shape:
        h, w = image.shape[:2]
        raise DataError(
            f"{mask_path}: mask is {sea.shape[1]}x{sea.shape[0]} but its image {image_path} is {w}x{h} (WxH)"
        )
    return Item(stem, str(image_path), image, sea.astype(np.uint8), image_path)


def _sky(mask_path: Path, sky_value: int | None) -> np.ndarray:
    """Boolean sky of a sky mask: palette PNGs by index (default 1), others by value (default 255 or 1)."""
    from PIL import Image  # Pillow comes with matplotlib

    try:
        with Image.open(mask_path) as im:
            if im.mode == "P":
                return np.asarray(im) == (1 if sky_value is None else sky_value)
    except OSError as err:
        raise DataError(f"{mask_path}: cannot be read as a mask ({err})") from None
    data = cv2.imread(str(mask_path), cv2.IMREAD_UNCHANGED)
    if data is None:
        raise DataError(f"{mask_path}: cannot be read as a mask (corrupt or unsupported format)")
    if data.ndim == 3:
        if not (data[..., :3] == data[..., :1]).all():
            raise DataError(
                f"{mask_path}: sky mask has colour; use the palette format for colour-coded masks"
            )
        data = data[..., 0]
    if sky_value is not None:
        return data == sky_value
    values = set(np.unique(data).tolist())
    if values <= {0, 255}:
        return data == 255
    if values <= {0, 1}:
        return data == 1
    shown = ", ".join(str(v) for v in sorted(values)[:8])
    raise DataError(
        f"{mask_path}: sky mask values must be {{0,255}} or {{0,1}} (255/1 = sky), found {shown}; "
        "--sky-value V picks the sky value of a label map"
    )


def read_sky_masks(src: Path, opts: Options) -> Iterator[Item]:
    """``sky-mask``: sea = not sky."""
    for stem, image, mask in _pairs(src, opts):
        yield _mask_item(stem, image, mask, ~_sky(mask, opts.sky_value))


def _rgb(mask_path: Path) -> np.ndarray:
    from PIL import Image  # Pillow comes with matplotlib

    try:
        with Image.open(mask_path) as im:
            if im.mode not in ("RGB", "RGBA", "P", "PA"):
                raise DataError(
                    f"{mask_path}: palette mask must be RGB (colour-coded), got image mode {im.mode}"
                )
            return np.asarray(im.convert("RGB"))
    except OSError as err:
        raise DataError(f"{mask_path}: cannot be read as a mask ({err})") from None


def read_palette(src: Path, opts: Options) -> Iterator[Item]:
    """``palette``: sea = pixels within ``opts.tolerance`` (every channel) of one of ``opts.water_colors``."""
    if not opts.water_colors:
        raise ConfigError("palette needs --water-colors R,G,B[;R,G,B...]")
    colours = np.asarray(opts.water_colors, dtype=np.int16)
    any_water = False
    for stem, image, mask in _pairs(src, opts):
        rgb = _rgb(mask).astype(np.int16)
        diff = np.abs(rgb[:, :, None, :] - colours[None, None, :, :]).max(axis=-1)
        sea = (diff <= opts.tolerance).any(axis=-1)
        any_water |= bool(sea.any())
        yield _mask_item(stem, image, mask, sea)
    if not any_water:  # a wrong colour would write a data set with no sea at all
        raise DataError(
            f"{src}: no pixel of any mask is within {opts.tolerance} of the water colours "
            f"{';'.join(','.join(map(str, c)) for c in opts.water_colors)}; check --water-colors"
        )


READERS: dict[str, Callable[[Path, Options], Iterator[Item]]] = {
    "lines-json": read_lines_json,
    "lines-csv": read_lines_csv,
    "smd-mat": read_smd_mat,
    "sky-mask": read_sky_masks,
    "palette": read_palette,
}
