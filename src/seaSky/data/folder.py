"""Read and validate a folder of IR images and sea masks.

Two layouts are understood (``<stem>`` is the file name without suffix):

* ``ROOT/images/<stem>.{png,tif,tiff,jpg,jpeg}`` + ``ROOT/masks/<stem>.png``, split by
  ``ROOT/splits/{train,val,test}.txt`` (one stem per line) when that folder exists, else by a seeded
  random split;
* ``ROOT/{train,val,test}/images/...`` + ``ROOT/{train,val,test}/masks/...``.

Masks hold 1 = sea and 0 = everything else, stored as {0,1} or {0,255}; any other value is an error.
Every problem found is collected, so one run lists them all, each naming its file.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from seaSky.data.preprocess import preprocess_image, resize_mask
from seaSky.errors import ConfigError, DataError

IMAGE_SUFFIXES = (".png", ".tif", ".tiff", ".jpg", ".jpeg")
SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class Sample:
    """One image and its mask (mask_path is None where the mask is missing)."""

    stem: str
    image_path: Path
    mask_path: Path | None


def read_image(path: Path) -> np.ndarray:
    """Read an 8/16-bit (or float) greyscale image as a float32 (H, W) array of its raw values.

    RGB(A) images whose colour channels are equal are taken as greyscale; real colour is an error.
    """
    data = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if data is None:
        raise DataError(f"{path}: cannot be read as an image (corrupt or unsupported format)")
    data = _to_single_channel(data, path, what="image")
    if data.dtype.kind == "f" and not np.isfinite(data).all():
        raise DataError(f"{path}: image contains NaN or infinite values")
    return data.astype(np.float32, copy=False)


def read_mask(path: Path) -> np.ndarray:
    """Read a mask as uint8 (H, W) with 1 = sea, 0 = not sea; values must be {0,1} or {0,255}."""
    data = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if data is None:
        raise DataError(f"{path}: cannot be read as a mask (corrupt or unsupported format)")
    data = _to_single_channel(data, path, what="mask")
    values = np.unique(data)
    if set(values.tolist()) <= {0, 1}:
        return data.astype(np.uint8)
    if set(values.tolist()) <= {0, 255}:
        return (data == 255).astype(np.uint8)
    shown = ", ".join(str(v) for v in values[:8]) + (", ..." if len(values) > 8 else "")
    raise DataError(f"{path}: mask values must be {{0,1}} or {{0,255}} (1/255 = sea), found {shown}")


def _to_single_channel(data: np.ndarray, path: Path, what: str) -> np.ndarray:
    if data.ndim == 2:
        return data
    if data.ndim == 3 and data.shape[2] in (3, 4):
        colour = data[..., :3]
        if (colour == colour[..., :1]).all():
            return np.ascontiguousarray(colour[..., 0])
        raise DataError(f"{path}: {what} has colour channels that differ; a greyscale {what} is expected")
    raise DataError(f"{path}: {what} has unsupported shape {data.shape}")


def _files_by_stem(folder: Path, what: str, problems: list[str]) -> dict[str, Path]:
    """Image-like files of a folder by stem; a stem used twice (a.png and a.tif) is a problem."""
    found: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            continue
        if path.stem in found:
            problems.append(f"{path}: duplicate {what} stem {path.stem!r} (also {found[path.stem].name})")
            continue
        found[path.stem] = path
    return found


def _pair(image_dir: Path, mask_dir: Path, problems: list[str]) -> dict[str, Sample]:
    """Match images with masks by stem; orphans and duplicate stems are recorded as problems."""
    images = _files_by_stem(image_dir, "image", problems)
    masks = _files_by_stem(mask_dir, "mask", problems) if mask_dir.is_dir() else {}
    if not mask_dir.is_dir():
        problems.append(f"{mask_dir}: mask folder is missing")
    for stem in sorted(set(masks) - set(images)):
        problems.append(f"{masks[stem]}: orphan mask, no image with stem {stem!r} in {image_dir}")
    samples = {}
    for stem, path in images.items():
        mask = masks.get(stem)
        if mask is None and mask_dir.is_dir():
            problems.append(f"{path}: no mask {stem}.png in {mask_dir}")
        samples[stem] = Sample(stem, path, mask)
    return samples


def _read_split_file(
    path: Path, known: dict[str, Sample], seen: dict[str, Path], problems: list[str]
) -> list[Sample]:
    """Samples listed in one split file; unknown stems and stems listed twice (in any split) are problems."""
    samples = []
    for stem in (line.strip() for line in path.read_text().splitlines()):
        if not stem:
            continue
        if stem not in known:
            problems.append(f"{path}: stem {stem!r} has no image in the images folder")
        elif stem in seen:
            problems.append(f"{path}: stem {stem!r} is listed again (already in {seen[stem].name})")
        else:
            seen[stem] = path
            samples.append(known[stem])
    return samples


def random_split(samples: Sequence[Sample], fractions: Sequence[float], seed: int) -> dict[str, list[Sample]]:
    """Seeded random split of samples by (train, val, test) fractions."""
    if len(fractions) != 3 or any(f < 0 for f in fractions) or sum(fractions) <= 0:
        raise ConfigError(f"split fractions must be 3 non-negative numbers, got {list(fractions)}")
    order = np.random.default_rng(seed).permutation(len(samples))
    total = float(sum(fractions))
    n_val = round(len(samples) * fractions[1] / total)
    n_test = round(len(samples) * fractions[2] / total)
    n_train = len(samples) - n_val - n_test
    picked = [samples[i] for i in order]
    return {
        "train": picked[:n_train],
        "val": picked[n_train : n_train + n_val],
        "test": picked[n_train + n_val :],
    }


def find_splits(
    root: Path | str, fractions: Sequence[float] = (0.8, 0.1, 0.1), seed: int = 0
) -> tuple[dict[str, list[Sample]], list[str]]:
    """Find the samples of each split under ``root``.

    Returns the splits and the layout problems found (one line each, naming the file); raises DataError
    only when ``root`` is missing or has neither layout.
    """
    root = Path(root)
    problems: list[str] = []
    if not root.is_dir():
        raise DataError(f"{root}: data folder does not exist")
    if (root / "images").is_dir():
        known = _pair(root / "images", root / "masks", problems)
        split_dir = root / "splits"
        if split_dir.is_dir():
            splits = {}
            seen: dict[str, Path] = {}
            for name in SPLITS:
                path = split_dir / f"{name}.txt"
                if path.is_file():
                    splits[name] = _read_split_file(path, known, seen, problems)
                else:
                    problems.append(f"{path}: split file is missing")
                    splits[name] = []
        else:
            splits = random_split(list(known.values()), fractions, seed)
    elif all((root / name / "images").is_dir() for name in SPLITS):
        splits = {
            name: list(_pair(root / name / "images", root / name / "masks", problems).values())
            for name in SPLITS
        }
    else:
        raise DataError(
            f"{root}: expected ROOT/images + ROOT/masks, or ROOT/{{train,val,test}}/{{images,masks}}"
        )
    for name in SPLITS:
        if not splits.get(name):
            problems.append(f"{root}: split {name!r} is empty")
    return splits, problems


def load_split(
    samples: Sequence[Sample], size: tuple[int, int], normalize: Mapping | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Decode, validate and pre-process (:func:`seaSky.data.preprocess.preprocess_image`) a split into
    memory.

    Returns images (N, H, W) float32 in [0, 1], masks (N, H, W) uint8 in {0, 1}, the frames' own sizes
    (N, 2) as (height, width), and problems (one line each, naming the file). ``size`` is (height,
    width). Samples without a mask are skipped (their problem is reported by :func:`find_splits`).
    """
    images, masks, sizes, problems = [], [], [], []
    for sample in samples:
        try:
            image = read_image(sample.image_path)
            mask = read_mask(sample.mask_path) if sample.mask_path else None
        except DataError as err:
            problems.append(str(err))
            continue
        if mask is None:
            continue
        if image.shape != mask.shape:
            problems.append(
                f"{sample.image_path}: image is {image.shape[1]}x{image.shape[0]} but its mask "
                f"{sample.mask_path.name} is {mask.shape[1]}x{mask.shape[0]} (WxH)"
            )
            continue
        sizes.append(image.shape)
        images.append(preprocess_image(image, size, normalize))
        masks.append(resize_mask(mask, size))
    if problems or not images:
        return np.empty(0), np.empty(0), np.empty((0, 2), int), problems
    return np.stack(images), np.stack(masks), np.array(sizes, dtype=np.int64), problems


def raise_problems(root: Path | str, problems: list[str]) -> None:
    """Raise one DataError listing all problems, one line each, if there are any."""
    if problems:
        head = f"{len(problems)} problem(s) in data set {root}:"
        raise DataError("\n".join([head, *(f"  - {p}" for p in problems)]))


def horizon_truth_arrays(
    truth: dict[str, tuple[str, str]], stems: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Per stem: the true line (y_left, y_right) in the frame's pixels (NaN = no horizon in view), and
    whether the truth is known at all (False where ``truth`` lacks the stem)."""
    lines = np.full((len(stems), 2), np.nan, dtype=np.float32)
    known = np.zeros(len(stems), dtype=bool)
    for i, stem in enumerate(stems):
        if stem in truth:
            known[i] = True
            y_left, y_right = truth[stem]
            if y_left not in ("", None) and y_right not in ("", None):
                lines[i] = (float(y_left), float(y_right))
    return lines, known


def read_horizon_truth(root: Path | str) -> dict[str, tuple[str, str]]:
    """Horizon ground truth of a data set, if it has any: ``ROOT/meta.csv`` rows with ``stem``, ``y_left``
    and ``y_right`` (pixels of the original frame; both empty = no horizon in view). {} when absent."""
    path = Path(root) / "meta.csv"
    if not path.is_file():
        return {}
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        if not {"stem", "y_left", "y_right"} <= set(reader.fieldnames or ()):
            return {}
        return {row["stem"]: (row["y_left"], row["y_right"]) for row in reader}
