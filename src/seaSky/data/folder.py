"""Read and validate a folder of IR images and sea masks.

Two layouts are understood (``<stem>`` is the file name without suffix):

* ``ROOT/images/<stem>.{png,tif,tiff,jpg,jpeg,bmp}`` + ``ROOT/masks/<stem>.png``, split by
  ``ROOT/splits/{train,val,test}.txt`` (one stem per line) when that folder exists, else by a seeded
  random split;
* ``ROOT/{train,val,test}/images/...`` + ``ROOT/{train,val,test}/masks/...``.

The val split may be left out (``splits/val.txt`` or ``ROOT/val/``), as many public sets come with train
and test only: validation then uses a seeded draw of VAL_FROM_TRAIN of the train frames (at least one),
which are not trained on, and a note says so.

Images are greyscale; a 3-channel image whose channels are equal is read as greyscale, and so is one
where a few pixels (at most MAX_COLOURED_SHARE, an on-screen symbol or text) are coloured, with a warning.

Masks hold 1 = sea and 0 = everything else, stored as {0,1} or {0,255}; any other value is an error.
Every problem found is collected, so one run lists them all, each naming its file. The same frame in two
splits (the same stem, or identical pixels under another stem) is an error: it would inflate test scores.
``python -m seaSky.data.check ROOT`` runs these checks without training.
"""

from __future__ import annotations

import csv
import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from seaSky.data.preprocess import preprocess_image, resize_mask
from seaSky.errors import ConfigError, DataError

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".png", ".tif", ".tiff", ".jpg", ".jpeg", ".bmp")
SPLITS = ("train", "val", "test")
VAL_FROM_TRAIN = 0.1  # share of train frames drawn for validation where a data set has no val split
MAX_COLOURED_SHARE = 0.02  # a grey frame may carry a coloured on-screen symbol on up to this share of pixels


@dataclass(frozen=True)
class Sample:
    """One image and its mask (mask_path is None where the mask is missing)."""

    stem: str
    image_path: Path
    mask_path: Path | None


def read_image(path: Path) -> np.ndarray:
    """Read an 8/16-bit (or float) greyscale image as a float32 (H, W) array of its raw values.

    RGB(A) images whose colour channels are equal are taken as greyscale, and so are those with a few
    coloured pixels (an on-screen symbol: at most MAX_COLOURED_SHARE of them, logged as a warning, read as
    their channels' mean); real colour is an error.
    """
    data = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if data is None:
        raise DataError(f"{path}: cannot be read as an image (corrupt or unsupported format)")
    if data.ndim == 3 and data.shape[2] in (3, 4):
        data = _grey_with_symbol(data[..., :3], path)
    data = _to_single_channel(data, path, what="image")
    if data.dtype.kind == "f" and not np.isfinite(data).all():
        raise DataError(f"{path}: image contains NaN or infinite values")
    return data.astype(np.float32, copy=False)


def _grey_with_symbol(colour: np.ndarray, path: Path) -> np.ndarray:
    """One channel of a 3-channel image that is grey but for a coloured on-screen symbol; DataError when
    more than MAX_COLOURED_SHARE of its pixels are coloured (a colour image)."""
    coloured = (colour != colour[..., :1]).any(axis=-1)
    n_coloured, n_pixels = int(coloured.sum()), coloured.size
    if n_coloured == 0:
        return np.ascontiguousarray(colour[..., 0])
    share = n_coloured / n_pixels
    if share > MAX_COLOURED_SHARE:
        raise DataError(
            f"{path}: image is in colour ({100 * share:.1f} % of its pixels have channels that differ, "
            f"more than the {100 * MAX_COLOURED_SHARE:g} % an on-screen symbol may take); a greyscale image "
            "is expected"
        )
    grey = np.ascontiguousarray(colour[..., 0])
    mean = colour[coloured].astype(np.float64).mean(axis=-1)
    grey[coloured] = np.round(mean).astype(grey.dtype) if grey.dtype.kind in "ui" else mean
    log.warning(
        "%s: %d of %d pixels (%.2f %%) are coloured (an on-screen symbol?); read as greyscale, those "
        "pixels as their channels' mean",
        path,
        n_coloured,
        n_pixels,
        100 * share,
    )
    return grey


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


def _pair(
    image_dir: Path, mask_dir: Path, problems: list[str], require_masks: bool = True
) -> dict[str, Sample]:
    """Match images with masks by stem; orphans and duplicate stems are recorded as problems, and images
    without a mask too when ``require_masks``."""
    images = _files_by_stem(image_dir, "image", problems)
    masks = _files_by_stem(mask_dir, "mask", problems) if mask_dir.is_dir() else {}
    if not mask_dir.is_dir():
        problems.append(f"{mask_dir}: mask folder is missing")
    for stem in sorted(set(masks) - set(images)):
        problems.append(f"{masks[stem]}: orphan mask, no image with stem {stem!r} in {image_dir}")
    samples = {}
    for stem, path in images.items():
        mask = masks.get(stem)
        if mask is None and mask_dir.is_dir() and require_masks:
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


def _layout(root: Path) -> dict[str, tuple[Path, Path]]:
    """The (images, masks) folders of ``root``: ``{"all": ...}`` for ROOT/images, one per split for
    ROOT/{train,val,test} (val may be missing); DataError when ``root`` is missing or has neither layout."""
    if not root.is_dir():
        raise DataError(f"{root}: data folder does not exist")
    if (root / "images").is_dir():
        return {"all": (root / "images", root / "masks")}
    present = [name for name in SPLITS if (root / name / "images").is_dir()]
    if "train" in present and "test" in present:
        return {name: (root / name / "images", root / name / "masks") for name in present}
    raise DataError(
        f"{root}: expected ROOT/images + ROOT/masks, or ROOT/{{train,val,test}}/{{images,masks}} "
        "(val may be left out)"
    )


def find_samples(root: Path | str, require_masks: bool = True) -> tuple[list[Sample], list[str]]:
    """Every image under ``root`` (either layout; split files are not read) and the layout problems
    (orphan masks, duplicate stems, and images without a mask when ``require_masks``)."""
    problems: list[str] = []
    samples: list[Sample] = []
    for image_dir, mask_dir in _layout(Path(root)).values():
        samples += _pair(image_dir, mask_dir, problems, require_masks).values()
    return samples, problems


def find_labelled(root: Path | str) -> tuple[list[Sample], list[str]]:
    """Every image with a mask under ``root``, whatever the split files say (``data.split=all``), and the
    problems: layout problems except images without a mask (left out), a stem used twice, no mask at all."""
    samples, problems = find_samples(root, require_masks=False)
    labelled, first = [], {}
    for sample in samples:
        if sample.mask_path is None:
            continue
        if sample.stem in first:
            problems.append(f"{sample.image_path}: stem {sample.stem!r} is used again ({first[sample.stem]})")
            continue
        first[sample.stem] = sample.image_path
        labelled.append(sample)
    if not labelled:
        problems.append(f"{root}: no image has a mask")
    return labelled, problems


def find_splits(
    root: Path | str,
    fractions: Sequence[float] = (0.8, 0.1, 0.1),
    seed: int = 0,
    notes: list[str] | None = None,
) -> tuple[dict[str, list[Sample]], list[str]]:
    """Find the samples of each split under ``root``.

    Returns the splits and the layout problems found (one line each, naming the file); raises DataError
    only when ``root`` is missing or has neither layout. Where the data set has train and test but no val
    split, val is drawn from train (:func:`draw_val_from_train`, with ``seed``) and ``notes``, when
    given, gets a line saying so.
    """
    root = Path(root)
    problems: list[str] = []
    layout = _layout(root)
    why_empty = ""
    no_val: Path | None = None  # where the missing val split would be
    if "all" in layout:
        known = _pair(*layout["all"], problems)
        split_dir = root / "splits"
        if split_dir.is_dir():
            splits = {}
            seen: dict[str, Path] = {}
            for name in SPLITS:
                path = split_dir / f"{name}.txt"
                if path.is_file():
                    splits[name] = _read_split_file(path, known, seen, problems)
                elif name == "val" and all((split_dir / f"{n}.txt").is_file() for n in ("train", "test")):
                    no_val = path
                else:
                    problems.append(f"{path}: split file is missing")
                    splits[name] = []
        else:
            splits = random_split(list(known.values()), fractions, seed)
            why_empty = f" (random split {list(fractions)} of {len(known)} images; no {split_dir})"
    else:
        splits = {name: list(_pair(*layout[name], problems).values()) for name in layout}
        if "val" not in layout:
            no_val = root / "val"
    if no_val is not None:
        n_train = len(splits["train"])
        splits["train"], splits["val"] = draw_val_from_train(splits["train"], seed)
        if splits["val"] and notes is not None:
            notes.append(
                f"{no_val}: no val split; validation uses {len(splits['val'])} of the {n_train} train "
                f"frames ({100 * VAL_FROM_TRAIN:g} %, at least 1, drawn with seed {seed}), which are not "
                "trained on"
            )
    for name in SPLITS:
        if splits[name]:
            continue
        why = why_empty
        if name == "val" and no_val is not None:
            why = f" (no {no_val}, and train has {n_train} frame(s), too few to draw val from)"
        problems.append(f"{root}: split {name!r} is empty{why}")
    return splits, problems


def draw_val_from_train(train: Sequence[Sample], seed: int) -> tuple[list[Sample], list[Sample]]:
    """(train, val): a seeded draw of VAL_FROM_TRAIN of the train samples (at least 1) as val, the rest
    as train, both in their given order; no val where train has fewer than 2 samples."""
    if len(train) < 2:
        return list(train), []
    n_val = max(1, round(len(train) * VAL_FROM_TRAIN))
    drawn = set(np.random.default_rng(seed).permutation(len(train))[:n_val].tolist())
    return (
        [s for i, s in enumerate(train) if i not in drawn],
        [s for i, s in enumerate(train) if i in drawn],
    )


def check_sample(sample: Sample) -> tuple[np.ndarray | None, np.ndarray | None, list[str]]:
    """Decode and validate one sample: its raw image, its mask (1 = sea; None without a mask) and every
    problem found (unreadable image or mask, bad mask values, image/mask size mismatch), one line each.
    The image is None where it cannot be read, the mask where it cannot be read or its size differs."""
    problems = []
    image = mask = None
    try:
        image = read_image(sample.image_path)
    except DataError as err:
        problems.append(str(err))
    if sample.mask_path is not None:
        try:
            mask = read_mask(sample.mask_path)
        except DataError as err:
            problems.append(str(err))
    if image is not None and mask is not None and image.shape != mask.shape:
        problems.append(
            f"{sample.image_path}: image is {image.shape[1]}x{image.shape[0]} but its mask "
            f"{sample.mask_path.name} is {mask.shape[1]}x{mask.shape[0]} (WxH)"
        )
        mask = None
    return image, mask, problems


def pixel_digest(image: np.ndarray) -> str:
    """Hash of a decoded image's size and pixel values: equal for identical frames in any file format."""
    data = np.ascontiguousarray(image, dtype=np.float32)
    digest = hashlib.blake2b(str(data.shape).encode(), digest_size=16)
    digest.update(data.data)
    return digest.hexdigest()


def find_overlaps(
    splits: Mapping[str, Sequence[Sample]], digests: Mapping[Path, str]
) -> tuple[list[str], list[str]]:
    """Frames shared by splits, which inflate test scores: returns the problems (a stem in two splits, or
    identical pixels, by ``digests`` of image paths, in two splits), each naming both files, and notes of
    identical pixels within one split (harmless, but worth knowing)."""
    problems, notes = [], []
    by_stem: dict[str, tuple[str, Path]] = {}
    by_digest: dict[str, tuple[str, Path]] = {}
    for name, samples in splits.items():
        for sample in samples:
            path = sample.image_path
            first = by_stem.setdefault(sample.stem, (name, path))
            if first[0] != name:
                problems.append(
                    f"{path}: stem {sample.stem!r} is in {name} and also in {first[0]} ({first[1]})"
                )
                continue
            if path not in digests:
                continue
            first = by_digest.setdefault(digests[path], (name, path))
            if first[1] == path:
                continue
            if first[0] != name:
                problems.append(f"{path}: in {name}, has the same pixels as {first[1]} in {first[0]}")
            else:
                notes.append(f"{path}: has the same pixels as {first[1]} (both in {name})")
    return problems, notes


def load_split(
    samples: Sequence[Sample],
    size: tuple[int, int],
    normalize: Mapping | None = None,
    digests: dict[Path, str] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Decode, validate and pre-process (:func:`seaSky.data.preprocess.preprocess_image`) a split into
    memory.

    Returns images (N, H, W) float32 in [0, 1], masks (N, H, W) uint8 in {0, 1}, the frames' own sizes
    (N, 2) as (height, width), and problems (one line each, naming the file). ``size`` is (height,
    width). Samples without a mask are skipped (their problem is reported by :func:`find_splits`).
    ``digests``, when given, is filled with :func:`pixel_digest` of each readable image by path (for
    :func:`find_overlaps`).
    """
    images, masks, sizes, problems = [], [], [], []
    for sample in samples:
        image, mask, sample_problems = check_sample(sample)
        problems += sample_problems
        if digests is not None and image is not None:
            digests[sample.image_path] = pixel_digest(image)
        if image is None or mask is None:
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
